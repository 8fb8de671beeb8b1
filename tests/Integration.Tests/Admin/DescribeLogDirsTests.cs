using Broker.Integration.Tests.DataPath;
using Broker.Integration.Tests.Infrastructure;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using static Broker.Integration.Tests.Infrastructure.RawRecords;

namespace Broker.Integration.Tests.Admin;

/// <summary>
/// DescribeLogDirs on the wire (no installed client exposes it: kafka-python 2.0.2 has no
/// describe_log_dirs, librdkafka and kafkajs have no such admin call). Sizes are checked to the
/// byte against batches built here, so the growth asserted is exactly what was appended.
/// </summary>
public sealed class DescribeLogDirsTests
{
    private static async Task ProduceAsync(RawKafkaClient client, string topic, int partition, byte[] batch, CancellationToken ct)
    {
        var request = new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = { new ProduceRequest.TopicProduceData { Name = topic, PartitionData = { new ProduceRequest.PartitionProduceData { Index = partition, Records = new MemoryRecords(batch) } } } },
        };
        ProduceResponse response = await client.SendAsync<ProduceResponse>(request, ProduceRequest.ApiKey, 9, ct);
        Assert.Equal(0, Assert.Single(Assert.Single(response.Responses).PartitionResponses).ErrorCode);
    }

    private static Task<DescribeLogDirsResponse> DescribeAsync(RawKafkaClient client, List<DescribeLogDirsRequest.DescribableLogDirTopic>? topics, short version, CancellationToken ct) =>
        client.SendAsync<DescribeLogDirsResponse>(new DescribeLogDirsRequest { Topics = topics }, DescribeLogDirsRequest.ApiKey, version, ct);

    private static DescribeLogDirsResponse.DescribeLogDirsTopic? FindTopic(DescribeLogDirsResponse.DescribeLogDirsResult dir, string topic) =>
        dir.Topics.Find(t => t.Name == topic);

    [Fact(Timeout = 60_000)]
    public async Task All_topics_then_filtered_partitions_report_sizes_that_grow_by_the_appended_bytes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using TestBroker broker = await TestBroker.StartAsync();
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic("logdirs");
        string other = TestBroker.UniqueTopic("logdirs-other");
        await CreateTopicAsync(client, topic, 2, cts.Token);
        await CreateTopicAsync(client, other, 1, cts.Token);

        // Null topics = everything, with the volume's sizes (v4).
        DescribeLogDirsResponse before = await DescribeAsync(client, null, 4, cts.Token);
        Assert.Equal(0, before.ErrorCode);
        DescribeLogDirsResponse.DescribeLogDirsResult dir = Assert.Single(before.Results);
        Assert.Equal(0, dir.ErrorCode);
        Assert.Equal(Path.GetFullPath(broker.DataDir), dir.LogDir);
        Assert.True(dir.TotalBytes > 0, $"total bytes {dir.TotalBytes}");
        Assert.InRange(dir.UsableBytes, 1, dir.TotalBytes);
        DescribeLogDirsResponse.DescribeLogDirsTopic described = FindTopic(dir, topic) ?? throw new Xunit.Sdk.XunitException($"{topic} missing");
        Assert.Equal([0, 1], described.Partitions.ConvertAll(p => p.PartitionIndex));
        Assert.All(described.Partitions, p =>
        {
            Assert.Equal(0, p.PartitionSize);
            Assert.Equal(0, p.OffsetLag);
            Assert.False(p.IsFutureKey);
        });
        Assert.NotNull(FindTopic(dir, other));

        byte[] first = Batch(5, 100);
        byte[] second = Batch(3, 1000);
        await ProduceAsync(client, topic, 0, first, cts.Token);
        await ProduceAsync(client, topic, 0, second, cts.Token);

        // Only partition 0 of the first topic asked for: the other partition and topic are left out.
        var filter = new List<DescribeLogDirsRequest.DescribableLogDirTopic> { new() { Topic = topic, Partitions = [0] } };
        for (short version = 1; version <= 4; version++)
        {
            DescribeLogDirsResponse after = await DescribeAsync(client, filter, version, cts.Token);
            DescribeLogDirsResponse.DescribeLogDirsResult afterDir = Assert.Single(after.Results);
            Assert.Equal(0, afterDir.ErrorCode);
            DescribeLogDirsResponse.DescribeLogDirsTopic afterTopic = Assert.Single(afterDir.Topics);
            Assert.Equal(topic, afterTopic.Name);
            DescribeLogDirsResponse.DescribeLogDirsPartition partition = Assert.Single(afterTopic.Partitions);
            Assert.Equal(0, partition.PartitionIndex);
            Assert.Equal(first.Length + second.Length, partition.PartitionSize);
            Assert.Equal(0, partition.OffsetLag);
            if (version < 4)
            {
                // Not on the wire before v4: the reader keeps the spec's default.
                Assert.Equal(-1, afterDir.TotalBytes);
            }
            else
            {
                Assert.True(afterDir.TotalBytes > 0);
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Unknown_partitions_and_an_empty_filter_yield_the_dir_without_topics_and_the_api_is_advertised()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using TestBroker broker = await TestBroker.StartAsync();
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic("logdirs-filter");
        await CreateTopicAsync(client, topic, 1, cts.Token);

        var unknown = new List<DescribeLogDirsRequest.DescribableLogDirTopic>
        {
            new() { Topic = topic, Partitions = [7] },
            new() { Topic = TestBroker.UniqueTopic("missing"), Partitions = [0] },
        };
        DescribeLogDirsResponse response = await DescribeAsync(client, unknown, 3, cts.Token);
        DescribeLogDirsResponse.DescribeLogDirsResult dir = Assert.Single(response.Results);
        Assert.Equal(0, dir.ErrorCode);
        Assert.Empty(dir.Topics);

        DescribeLogDirsResponse empty = await DescribeAsync(client, [], 2, cts.Token);
        Assert.Empty(Assert.Single(empty.Results).Topics);

        ApiVersionsResponse versions = await client.SendAsync<ApiVersionsResponse>(
            new ApiVersionsRequest { ClientSoftwareName = "test", ClientSoftwareVersion = "1" }, ApiVersionsRequest.ApiKey, 3, cts.Token);
        ApiVersionsResponse.ApiVersion advertised = Assert.Single(versions.ApiKeys, k => k.ApiKey == DescribeLogDirsRequest.ApiKey);
        Assert.Equal(1, advertised.MinVersion);
        Assert.Equal(4, advertised.MaxVersion);
    }

    [Fact(Timeout = 60_000)]
    public async Task Partitions_spread_over_two_log_dirs_are_each_reported_under_their_own_dir()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        string root = Path.Combine(Path.GetTempPath(), "broker-logdirs-" + Guid.NewGuid().ToString("N"));
        string first = Path.Combine(root, "a");
        string second = Path.Combine(root, "b");
        try
        {
            await using TestBroker broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["log.dirs"] = $"{first},{second}" });
            await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
            string topic = TestBroker.UniqueTopic("logdirs-two");
            await CreateTopicAsync(client, topic, 4, cts.Token);

            DescribeLogDirsResponse response = await DescribeAsync(client,
                [new DescribeLogDirsRequest.DescribableLogDirTopic { Topic = topic, Partitions = [0, 1, 2, 3] }], 4, cts.Token);
            Assert.Equal([Path.GetFullPath(first), Path.GetFullPath(second)], response.Results.ConvertAll(r => r.LogDir));
            var seen = new List<int>();
            foreach (DescribeLogDirsResponse.DescribeLogDirsResult dir in response.Results)
            {
                Assert.Equal(0, dir.ErrorCode);
                DescribeLogDirsResponse.DescribeLogDirsTopic described = Assert.Single(dir.Topics);
                foreach (DescribeLogDirsResponse.DescribeLogDirsPartition p in described.Partitions)
                {
                    // Each partition is reported where its directory really is.
                    Assert.True(Directory.Exists(Path.Combine(dir.LogDir, $"{topic}-{p.PartitionIndex}")), $"{topic}-{p.PartitionIndex} not in {dir.LogDir}");
                    seen.Add(p.PartitionIndex);
                }
            }

            seen.Sort();
            Assert.Equal([0, 1, 2, 3], seen);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Best effort, as TestBroker's own cleanup.
            }
        }
    }
}
