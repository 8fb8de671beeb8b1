using System.Collections.Concurrent;
using Broker.Coordinator.Group;
using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using static Broker.Integration.Tests.Groups.ConsumerGroupIntegrationTests;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// KIP-848 rolling upgrade with Confluent.Kafka: two classic consumers share a topic, then one is
/// replaced by a group.protocol=consumer consumer while the other keeps running. The group becomes
/// a consumer group with a classic member; consumption continues from the committed offsets and
/// every partition ends owned by exactly one of the two. When the consumer-protocol one leaves,
/// the group turns classic again and the classic consumer reads on.
/// </summary>
public class OnlineUpgradeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private const int Partitions = 4;
    private const int PerBatch = 10;

    /// <summary>One consumer on its own thread, committing every record it reads before the next.</summary>
    private sealed class RunningConsumer : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        public ConcurrentQueue<(int Partition, long Offset)> Read { get; } = new();
        public volatile Exception? Failure;

        public RunningConsumer(ConsumerConfig config, string topic)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
                    consumer.Subscribe(topic);
                    while (!_stop.IsCancellationRequested)
                    {
                        var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                        if (record is null || record.IsPartitionEOF) continue;
                        consumer.Commit(record);
                        Read.Enqueue((record.Partition.Value, record.Offset.Value));
                    }
                    consumer.Close();
                }
                catch (Exception ex) { Failure = ex; }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop.Cancel();
            Assert.True(_thread.Join(Deadline), "consumer did not close");
        }
    }

    private static void Produce(TestBroker broker, string topic, int batch)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        for (int p = 0; p < Partitions; p++)
            for (int i = 0; i < PerBatch; i++)
                producer.Produce(new TopicPartition(topic, p), new Message<byte[], byte[]> { Value = new[] { (byte)batch, (byte)i } });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Waits until offsets [0, upTo) of every partition were read by one of the consumers.</summary>
    private static async Task AwaitAllReadAsync(long upTo, params RunningConsumer[] consumers)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            foreach (var c in consumers) Assert.Null(c.Failure);
            var read = consumers.SelectMany(c => c.Read).ToHashSet();
            int missing = 0;
            for (int p = 0; p < Partitions; p++)
                for (long o = 0; o < upTo; o++)
                    if (!read.Contains((p, o))) missing++;
            if (missing == 0) return;
            Assert.True(DateTime.UtcNow < deadline,
                $"{missing} records not read; read per consumer: {string.Join(" | ", consumers.Select(c => string.Join(",", c.Read.GroupBy(r => r.Partition).Select(g => $"p{g.Key}:{g.Max(r => r.Offset)}"))))}");
            await Task.Delay(100);
        }
    }

    [Theory]
    [InlineData(PartitionAssignmentStrategy.Range)]
    [InlineData(PartitionAssignmentStrategy.CooperativeSticky)]
    public async Task AClassicConsumerReplacedByAConsumerProtocolOneUpgradesTheGroupWithoutStopping(PartitionAssignmentStrategy strategy)
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, Partitions);
        string groupId = "upgrade-" + topic;
        var coordinator = broker.Services.GetRequiredService<GroupCoordinator>();

        using var stays = new RunningConsumer(ClassicConfig(broker, groupId, strategy), topic);
        var replaced = new RunningConsumer(ClassicConfig(broker, groupId, strategy), topic);
        Produce(broker, topic, 1);
        await AwaitAllReadAsync(PerBatch, stays, replaced);
        Assert.Equal("classic", (await coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == groupId).Type);

        // Rolling upgrade: stop one classic instance, start it again with group.protocol=consumer.
        replaced.Dispose();
        var upgraded = new RunningConsumer(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = groupId,
            GroupProtocol = GroupProtocol.Consumer,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }, topic);

        // The group converts while the classic member is still in it, and the two end up sharing
        // every partition exactly once.
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var described = await coordinator.ConsumerGroupDescribeAsync(groupId);
            if (described.Error == Broker.Protocol.ErrorCode.None && described.State == "Stable" && described.Members.Count == 2
                && described.Members.All(m => !m.Assignment.IsEmpty))
            {
                var owned = described.Members.SelectMany(m => m.Assignment.All()).Select(tp => tp.Partition).OrderBy(p => p).ToArray();
                Assert.Equal(Enumerable.Range(0, Partitions), owned);
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"group not stable with both members: {described.State}, {described.Members.Count} members");
            await Task.Delay(100);
        }

        // Consumption continues on both, from the committed offsets: nothing of batch 1 is re-read
        // by the upgraded consumer, and batch 2 is read in full.
        Produce(broker, topic, 2);
        await AwaitAllReadAsync(2 * PerBatch, stays, replaced, upgraded);
        Assert.NotEmpty(upgraded.Read);
        Assert.All(upgraded.Read, r => Assert.True(r.Offset >= PerBatch, $"partition {r.Partition} re-read offset {r.Offset}"));
        Assert.Equal("consumer", (await coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == groupId).Type);

        // Downgrade: the consumer-protocol member leaves, only the classic one remains, and the
        // group turns classic again; the classic consumer takes every partition and reads on.
        upgraded.Dispose();
        var downgradeDeadline = DateTime.UtcNow + Deadline;
        while ((await coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == groupId).Type != "classic")
        {
            Assert.True(DateTime.UtcNow < downgradeDeadline, "the group did not turn classic");
            await Task.Delay(100);
        }
        Produce(broker, topic, 3);
        await AwaitAllReadAsync(3 * PerBatch, stays, replaced, upgraded);
        Assert.Contains(stays.Read, r => r.Offset >= 2 * PerBatch);
    }
}
