using Broker.Protocol.Generator;

namespace Broker.Protocol.Tests.Messages;

/// <summary>The committed generated code must be exactly what the generator produces from the specs.</summary>
public sealed class GeneratedFilesMatchTests
{
    [Fact]
    public void CommittedMessagesMatchARegeneration()
    {
        IReadOnlyDictionary<string, string> expected = MessageGenerator.GenerateAll(SpecPaths.SpecsRoot);
        Assert.True(expected.Count > 200, $"only {expected.Count} files generated");
        var committed = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in Directory.GetFiles(SpecPaths.MessagesDir, "*.cs"))
            committed.Add(Path.GetFileName(path));

        var problems = new List<string>();
        foreach (KeyValuePair<string, string> file in expected)
        {
            string path = Path.Combine(SpecPaths.MessagesDir, file.Key);
            if (!File.Exists(path)) problems.Add("missing: " + file.Key);
            else if (File.ReadAllText(path) != file.Value) problems.Add("differs: " + file.Key);
            committed.Remove(file.Key);
        }
        foreach (string extra in committed) problems.Add("not generated (stale): " + extra);
        Assert.True(problems.Count == 0,
            "Regenerate with `dotnet run --project src/Protocol.Generator -- ../shared/kafka-protocol src/Protocol/Messages`:\n" + string.Join("\n", problems));
    }
}
