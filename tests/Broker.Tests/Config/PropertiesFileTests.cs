using Broker.Config;

namespace Broker.Tests.Config;

/// <summary>server.properties is read the way java.util.Properties.load reads it.</summary>
public sealed class PropertiesFileTests
{
    private static Dictionary<string, string> Parse(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> entry in BrokerConfigLoader.ParseProperties(text)) result[entry.Key] = entry.Value;
        return result;
    }

    [Fact]
    public void CommentsAndBlankLinesAreSkipped()
    {
        var p = Parse("# a comment\n! another comment\n   # indented comment\n\n   \t\nnum.partitions=3\n");
        Assert.Equal(new Dictionary<string, string> { ["num.partitions"] = "3" }, p);
    }

    [Theory]
    [InlineData("key=value")]
    [InlineData("key = value")]
    [InlineData("key:value")]
    [InlineData("key : value")]
    [InlineData("key value")]
    [InlineData("key\tvalue")]
    [InlineData("   key=value")]
    public void SeparatorsAreEqualsColonOrWhitespace(string line)
    {
        Assert.Equal("value", Parse(line)["key"]);
    }

    [Fact]
    public void OnlyTheFirstSeparatorCounts_AndTrailingWhitespaceIsKept()
    {
        var p = Parse("listeners=PLAINTEXT://host:9092\nweird = = x \nempty=\nbare\n");
        Assert.Equal("PLAINTEXT://host:9092", p["listeners"]);
        Assert.Equal("= x ", p["weird"]);
        Assert.Equal("", p["empty"]);
        Assert.Equal("", p["bare"]);
    }

    [Fact]
    public void ContinuationLinesJoinWithoutTheirLeadingWhitespace()
    {
        var p = Parse("log.dirs=/a,\\\n     /b,\\\n\t/c\nnext=1\n");
        Assert.Equal("/a,/b,/c", p["log.dirs"]);
        Assert.Equal("1", p["next"]);
    }

    [Fact]
    public void AnEvenNumberOfBackslashesIsNotAContinuation()
    {
        var p = Parse("path=C:\\\\dir\\\\\nnext=1\n");
        Assert.Equal("C:\\dir\\", p["path"]);
        Assert.Equal("1", p["next"]);
    }

    [Fact]
    public void AContinuedLineStartingWithHashIsNotAComment_ButACommentIsNeverContinued()
    {
        var p = Parse("a=x\\\n#y\n# comment \\\nb=2\n");
        Assert.Equal("x#y", p["a"]);
        Assert.Equal("2", p["b"]);
    }

    [Fact]
    public void ABackslashOnTheLastLineIsDropped()
    {
        Assert.Equal("v", Parse("k=v\\")["k"]);
    }

    [Fact]
    public void EscapesInKeysAndValues()
    {
        var p = Parse("my\\ key\\:x\\=y=tab\\there\\nnl \\u00e9\\u0041 \\q\n\\#notcomment=1\n");
        Assert.Equal("tab\there\nnl \u00e9A q", p["my key:x=y"]);
        Assert.Equal("1", p["#notcomment"]);
    }

    [Fact]
    public void MalformedUnicodeEscapeStopsStartup()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => Parse("k=\\u12G4\n"));
        Assert.Contains("Malformed", e.Message);
    }

    [Fact]
    public void AllLineTerminatorsWork_AndTheLastDuplicateWins()
    {
        var p = Parse("a=1\r\nb=2\rc=3\na=4");
        Assert.Equal("4", p["a"]);
        Assert.Equal("2", p["b"]);
        Assert.Equal("3", p["c"]);
    }
}
