using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Clients;

/// <summary>
/// kcat (librdkafka 2.0.2 as packaged by Debian, older than the librdkafka in Confluent.Kafka):
/// produce lines with -P, read them back with -C -e, and metadata with -L.
/// </summary>
[Collection(ExternalClientsCollection.Name)]
public sealed class KcatTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task Produce_then_consume_returns_every_line_in_order(string codec)
    {
        ClientTools.RequireKcat();
        await using var broker = await TestBroker.StartAsync();
        var topic = TestBroker.UniqueTopic();
        const int count = 200;
        var input = string.Concat(Enumerable.Range(0, count).Select(i => $"key-{i}:value-{i}\n"));

        // The topic does not exist yet: the producer's metadata request auto-creates it
        // (auto.create.topics.enable defaults to true, as in Kafka).
        // -d msg makes librdkafka log each produced message set, including whether it compressed it.
        var produce = await RunKcatAsync(broker, input,
            "-P", "-t", topic, "-p", "0", "-K", ":",
            "-X", "acks=all", "-X", $"compression.codec={codec}", "-X", "linger.ms=5", "-d", "msg");
        Assert.True(produce.Succeeded, produce.Describe());
        Assert.DoesNotContain("% ERROR", produce.Stderr);
        // librdkafka before 2.10 decides from ApiVersions whether the broker "supports" gzip,
        // snappy and lz4: it wants Produce v0-v2 (MsgVer1) advertised and otherwise silently
        // sends uncompressed batches. Kafka 4.0 therefore still advertises Produce from v0 while
        // rejecting v0-v2 requests (KAFKA-18659, librdkafka#4956); we must do the same.
        Assert.False(produce.Stderr.Contains("not compressing batch", StringComparison.Ordinal),
            $"kcat (librdkafka 2.0.2) refused to compress with {codec} because of the ApiVersions our broker advertised " +
            $"(KAFKA-18659: advertise Produce from v0)\n{produce.Describe()}");

        var all = await ConsumeAsync(broker, topic, "beginning");
        Assert.True(all.Succeeded, all.Describe());
        var lines = OutputLines(all);
        Assert.True(lines.Length == count, $"expected {count} records, got {lines.Length}\n{all.Describe()}");
        for (var i = 0; i < count; i++)
            Assert.Equal($"{i}|key-{i}|value-{i}", lines[i]);

        // Fetch from the middle of the log (a fetch offset inside a batch, which the broker
        // answers with the whole batch and the client skips the records before the offset).
        var tail = await ConsumeAsync(broker, topic, "150");
        Assert.True(tail.Succeeded, tail.Describe());
        var tailLines = OutputLines(tail);
        Assert.True(tailLines.Length == count - 150, $"expected {count - 150} records from offset 150\n{tail.Describe()}");
        for (var i = 150; i < count; i++)
            Assert.Equal($"{i}|key-{i}|value-{i}", tailLines[i - 150]);
    }

    [Fact]
    public async Task Metadata_lists_the_broker_and_the_topic_it_leads()
    {
        ClientTools.RequireKcat();
        await using var broker = await TestBroker.StartAsync();
        var topic = TestBroker.UniqueTopic();
        var produce = await RunKcatAsync(broker, "hello\n", "-P", "-t", topic, "-X", "acks=all");
        Assert.True(produce.Succeeded, produce.Describe());

        var list = await RunKcatAsync(broker, null, "-L", "-J", "-t", topic);
        Assert.True(list.Succeeded, list.Describe());
        using var json = JsonDocument.Parse(list.LastStdoutLine());
        var root = json.RootElement;

        var brokers = root.GetProperty("brokers").EnumerateArray().ToArray();
        Assert.True(brokers.Length == 1, $"expected one broker\n{list.Describe()}");
        var brokerId = brokers[0].GetProperty("id").GetInt32();
        // The advertised address must be the one clients can reach: same port as bootstrap.
        var bootstrapPort = broker.BootstrapServers.Split(',')[0].Split(':')[^1];
        Assert.EndsWith(":" + bootstrapPort, brokers[0].GetProperty("name").GetString());

        var topics = root.GetProperty("topics").EnumerateArray().ToArray();
        var entry = Assert.Single(topics, t => t.GetProperty("topic").GetString() == topic);
        Assert.False(entry.TryGetProperty("error", out var error), $"topic error {error}\n{list.Describe()}");
        var partitions = entry.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.NotEmpty(partitions);
        foreach (var partition in partitions)
        {
            Assert.Equal(brokerId, partition.GetProperty("leader").GetInt32());
            Assert.Contains(partition.GetProperty("replicas").EnumerateArray(), r => r.GetProperty("id").GetInt32() == brokerId);
            Assert.Contains(partition.GetProperty("isrs").EnumerateArray(), r => r.GetProperty("id").GetInt32() == brokerId);
        }
    }

    private static Task<ProcessResult> ConsumeAsync(TestBroker broker, string topic, string offset) =>
        RunKcatAsync(broker, null, "-C", "-t", topic, "-p", "0", "-o", offset, "-e", "-q", "-f", "%o|%k|%s\n");

    private static string[] OutputLines(ProcessResult result) =>
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Task<ProcessResult> RunKcatAsync(TestBroker broker, string? stdin, params string[] arguments)
    {
        // -X client.id makes the broker's request log attributable; -m bounds kcat's own metadata wait.
        string[] common = ["-b", broker.BootstrapServers, "-X", "client.id=kcat-test", "-m", "20"];
        return ExternalProcess.RunAsync(ClientTools.Kcat, [.. common, .. arguments], ProcessTimeout, stdin);
    }
}
