using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Clients;

/// <summary>
/// kafka-python 2.0.2 (pure Python, Debian's python3-kafka): it probes the broker version from
/// ApiVersions and then speaks older API versions than librdkafka does, so it covers a different
/// slice of each API's version range. Scripts are in Clients/python.
/// </summary>
[Collection(ExternalClientsCollection.Name)]
public sealed class KafkaPythonTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task Produce_with_acks_all_then_assign_and_seek_reads_them_back(string codec)
    {
        ClientTools.RequireKafkaPython();
        await using var broker = await TestBroker.StartAsync();
        var topic = TestBroker.UniqueTopic();
        const int count = 100;

        var produce = await RunScriptAsync("produce.py", broker.BootstrapServers, topic, codec, count.ToString());
        using (var produced = produce.ExpectJsonResult())
        {
            var offsets = produced.RootElement.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            Assert.True(offsets.SequenceEqual(Enumerable.Range(0, count).Select(i => (long)i)),
                $"acknowledged offsets are not 0..{count - 1}: [{string.Join(',', offsets)}]\n{produce.Describe()}");
        }

        var fromStart = await RunScriptAsync("consume_assign.py", broker.BootstrapServers, topic, "0", count.ToString());
        using (var consumed = fromStart.ExpectJsonResult())
        {
            var root = consumed.RootElement;
            Assert.Equal(0, root.GetProperty("beginning").GetInt64());
            Assert.Equal(count, root.GetProperty("end").GetInt64());
            AssertRecords(root, 0, count, fromStart);
        }

        // Seek into the middle: the broker returns the batch holding the offset, the client
        // drops the records before it.
        const int seekTo = 37;
        var fromMiddle = await RunScriptAsync("consume_assign.py", broker.BootstrapServers, topic, seekTo.ToString(), (count - seekTo).ToString());
        using (var consumed = fromMiddle.ExpectJsonResult())
            AssertRecords(consumed.RootElement, seekTo, count, fromMiddle);
    }

    [Fact]
    public async Task Consumer_group_reads_all_partitions_and_commits_offsets()
    {
        ClientTools.RequireKafkaPython();
        await using var broker = await TestBroker.StartAsync();
        var topic = TestBroker.UniqueTopic();
        var group = "kafka-python-" + Guid.NewGuid().ToString("N");
        const int count = 30, partitions = 3;

        var produce = await RunScriptAsync("produce.py", broker.BootstrapServers, topic, "gzip", count.ToString(), partitions.ToString());
        produce.ExpectJsonResult().Dispose();

        var consume = await RunScriptAsync("consume_group.py", broker.BootstrapServers, topic, group, count.ToString());
        using var result = consume.ExpectJsonResult();
        var root = result.RootElement;
        var values = root.GetProperty("values").EnumerateArray().Select(v => v.GetString()).Order().ToArray();
        var expected = Enumerable.Range(0, count).Select(i => $"value-{i}").Order().ToArray();
        Assert.True(values.SequenceEqual(expected), $"group consumer did not read exactly the produced values\n{consume.Describe()}");

        var assignment = root.GetProperty("assignment").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        Assert.Equal([0, 1, 2], assignment);
        // produce.py sends record i to partition i % 3, so each partition holds count / 3 records
        // and the committed offset (next offset to read) is that count.
        foreach (var partition in assignment)
        {
            var committed = root.GetProperty("committed").GetProperty(partition.ToString());
            Assert.True(committed.ValueKind == JsonValueKind.Number && committed.GetInt64() == count / partitions,
                $"partition {partition}: committed {committed} expected {count / partitions}\n{consume.Describe()}");
        }
    }

    private static void AssertRecords(JsonElement root, int firstOffset, int endOffset, ProcessResult run)
    {
        var offsets = root.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
        var keys = root.GetProperty("keys").EnumerateArray().Select(k => k.GetString()).ToArray();
        var values = root.GetProperty("values").EnumerateArray().Select(v => v.GetString()).ToArray();
        Assert.True(offsets.Length == endOffset - firstOffset, $"expected {endOffset - firstOffset} records, got {offsets.Length}\n{run.Describe()}");
        for (var i = 0; i < offsets.Length; i++)
        {
            var offset = firstOffset + i;
            Assert.Equal(offset, offsets[i]);
            Assert.Equal($"key-{offset}", keys[i]);
            Assert.Equal($"value-{offset}", values[i]);
        }
    }

    private static Task<ProcessResult> RunScriptAsync(string script, params string[] arguments) =>
        ExternalProcess.RunAsync(
            ClientTools.Python, // -u: unbuffered, so a killed run still shows its output; -B: no __pycache__ in the source tree
            ["-u", "-B", Path.Combine(ClientTools.PythonScriptsDirectory, script), .. arguments],
            ProcessTimeout,
            workingDirectory: ClientTools.PythonScriptsDirectory);
}
