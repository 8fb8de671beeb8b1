using System.Diagnostics;
using Broker.Integration.Tests.DataPath;
using Broker.Integration.Tests.Infrastructure;
using Broker.Integration.Tests.Metrics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// Consumer group lag computed by the broker (kafka_consumergroup_lag) against what an operator
/// computes with Kafka's AdminClient: committed offset from ListConsumerGroupOffsets, high
/// watermark from ListOffsets(latest). Both must agree after a partial commit and after the rest,
/// for a classic group and for a KIP-848 consumer group (offsets live in the same store).
/// </summary>
public sealed class LagMetricsTests
{
    [Theory(Timeout = 120_000)]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public async Task Lag_metric_and_admin_client_agree_after_a_partial_commit_and_reach_zero_after_the_rest(GroupProtocol protocol)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using TestBroker broker = await MetricsScrape.StartBrokerAsync();
        string topic = TestBroker.UniqueTopic("lag");
        string group = "lag-" + Guid.NewGuid().ToString("N");
        const int produced = 20;
        const int consumed = 7;
        var partition = new TopicPartition(topic, 0);

        using IAdminClient admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        using (IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, Acks.All))
        {
            await ClientHelpers.ProduceValuesAsync(producer, topic, produced);
        }

        using IConsumer<byte[], byte[]> consumer = ClientHelpers.Consumer(broker.BootstrapServers, c =>
        {
            c.GroupId = group;
            c.GroupProtocol = protocol; // classic JoinGroup/SyncGroup, or KIP-848 ConsumerGroupHeartbeat
        });
        consumer.Subscribe(topic);
        int read = 0;
        var deadline = Stopwatch.StartNew();
        while (read < consumed && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            ConsumeResult<byte[], byte[]>? result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null || result.IsPartitionEOF) continue;
            Assert.Equal(read, result.Offset.Value);
            read++;
        }

        Assert.Equal(consumed, read);
        consumer.Commit([new TopicPartitionOffset(partition, consumed)]);
        await AssertLagAsync(broker, admin, group, partition, consumed, produced - consumed, cts.Token);

        consumer.Commit([new TopicPartitionOffset(partition, produced)]);
        await AssertLagAsync(broker, admin, group, partition, produced, 0, cts.Token);
        consumer.Close();
    }

    private static async Task AssertLagAsync(TestBroker broker, IAdminClient admin, string group, TopicPartition partition, long committed, long lag, CancellationToken ct)
    {
        (string, string)[] labels = [("group", group), ("topic", partition.Topic), ("partition", partition.Partition.Value.ToString())];
        List<MetricSample> samples = await MetricsScrape.ScrapeUntilAsync(broker,
            s => MetricsScrape.Find(s, "kafka_consumergroup_committed_offset", labels) == committed, ct);
        Assert.Equal(lag, MetricsScrape.Find(samples, "kafka_consumergroup_lag", labels));

        List<ListConsumerGroupOffsetsResult> offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, [partition])]);
        TopicPartitionOffsetError adminCommitted = Assert.Single(Assert.Single(offsets).Partitions);
        Assert.False(adminCommitted.Error.IsError, adminCommitted.Error.Reason);
        ListOffsetsResult latest = await admin.ListOffsetsAsync([new TopicPartitionOffsetSpec { TopicPartition = partition, OffsetSpec = OffsetSpec.Latest() }]);
        long highWatermark = Assert.Single(latest.ResultInfos).TopicPartitionOffsetError.Offset.Value;

        Assert.Equal(committed, adminCommitted.Offset.Value);
        Assert.Equal(lag, highWatermark - adminCommitted.Offset.Value);
    }
}
