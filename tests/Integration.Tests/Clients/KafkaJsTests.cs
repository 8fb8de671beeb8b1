using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Clients;

/// <summary>
/// kafkajs 2.2.4 (pure JavaScript, its own protocol implementation and group client).
/// Scripts are in Clients/node; node_modules comes from `npm ci` (.ci/install-clients.sh).
/// </summary>
[Collection(ExternalClientsCollection.Name)]
public sealed class KafkaJsTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Admin_creates_topic_once_and_metadata_shows_its_partitions()
    {
        ClientTools.RequireKafkaJs();
        await using var broker = await TestBroker.StartAsync();
        var topic = TestBroker.UniqueTopic();

        var run = await RunScriptAsync("admin.js", broker.BootstrapServers, topic, "3");
        using var result = run.ExpectJsonResult();
        var root = result.RootElement;
        Assert.True(root.GetProperty("created").GetBoolean(), $"first createTopics did not create\n{run.Describe()}");
        // Second create must fail with TOPIC_ALREADY_EXISTS, which kafkajs reports as false.
        Assert.False(root.GetProperty("createdAgain").GetBoolean(), $"second createTopics claims to have created\n{run.Describe()}");
        Assert.True(root.GetProperty("listed").GetBoolean(), $"listTopics does not include the topic\n{run.Describe()}");
        Assert.Equal([0, 1, 2], root.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32()).ToArray());
        var leaders = root.GetProperty("leaders").EnumerateArray().Select(l => l.GetInt32()).Distinct().ToArray();
        Assert.True(leaders.Length == 1 && leaders[0] >= 0, $"partitions should all be led by the one broker\n{run.Describe()}");
    }

    [Fact]
    public async Task Producer_and_consumer_group_round_trip_with_committed_offsets()
    {
        ClientTools.RequireKafkaJs();
        await using var broker = await TestBroker.StartAsync();
        var topic = TestBroker.UniqueTopic();
        var group = "kafkajs-" + Guid.NewGuid().ToString("N");
        const int count = 60;

        var run = await RunScriptAsync("produce-consume-group.js", broker.BootstrapServers, topic, group, count.ToString(), "3");
        using var result = run.ExpectJsonResult();
        var root = result.RootElement;

        var values = root.GetProperty("values").EnumerateArray().Select(v => v.GetString()).Order().ToArray();
        var expected = Enumerable.Range(0, count).Select(i => $"value-{i}").Order().ToArray();
        Assert.True(values.SequenceEqual(expected), $"the group did not read exactly the produced values\n{run.Describe()}");

        // One produce request, so each partition's batch starts at offset 0.
        foreach (var produced in root.GetProperty("produced").EnumerateArray())
            Assert.Equal(0, produced.GetProperty("baseOffset").GetInt64());

        // After the consumer stopped, the committed offsets (next offset to read) add up to the
        // number of records: nothing is read twice or skipped on the next start. A partition the
        // partitioner gave no record has nothing to commit (-1).
        var producedPartitions = root.GetProperty("produced").EnumerateArray().Select(p => p.GetProperty("partition").GetInt32()).ToHashSet();
        var committed = root.GetProperty("committed").EnumerateArray().ToArray();
        Assert.Equal(3, committed.Length);
        long total = 0;
        foreach (var partition in committed)
        {
            var offset = partition.GetProperty("offset").GetInt64();
            var hadRecords = producedPartitions.Contains(partition.GetProperty("partition").GetInt32());
            Assert.True(hadRecords ? offset > 0 : offset == -1, $"committed {partition} (partition had records: {hadRecords})\n{run.Describe()}");
            total += Math.Max(offset, 0);
        }
        Assert.True(total == count, $"committed offsets add up to {total}, expected {count}\n{run.Describe()}");
    }

    private static Task<ProcessResult> RunScriptAsync(string script, params string[] arguments) =>
        ExternalProcess.RunAsync(
            ClientTools.Node,
            [Path.Combine(ClientTools.NodeScriptsDirectory, script), .. arguments],
            ProcessTimeout,
            workingDirectory: ClientTools.NodeScriptsDirectory,
            environment: new Dictionary<string, string> { ["KAFKAJS_NO_PARTITIONER_WARNING"] = "1" });
}
