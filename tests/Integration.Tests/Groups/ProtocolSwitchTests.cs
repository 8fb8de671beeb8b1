using Broker.Coordinator.Group;
using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using static Broker.Integration.Tests.Groups.ConsumerGroupIntegrationTests;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// The upgrade path we support (README, "Mixed and migrating groups"): stop every classic
/// consumer, start them again with group.protocol=consumer, and the emptied group converts,
/// keeping its committed offsets; the same back down. Confluent.Kafka both ways.
/// </summary>
public class ProtocolSwitchTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private const int Partitions = 3;

    private static ConsumerConfig Config(TestBroker broker, string groupId, bool consumerProtocol)
    {
        if (!consumerProtocol) return ClassicConfig(broker, groupId, PartitionAssignmentStrategy.Range);
        return new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = groupId,
            GroupProtocol = GroupProtocol.Consumer,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
    }

    /// <summary>
    /// Runs one member of the group until it has read one record of every partition, returns the
    /// offset of the first record it read per partition (where the group's committed offset put
    /// it), commits <paramref name="commitNext"/> and closes (LeaveGroup / leave heartbeat).
    /// </summary>
    private static Dictionary<int, long> ConsumeOnceThenCommit(ConsumerConfig config, string topic, long commitNext)
    {
        var first = new Dictionary<int, long>();
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + Deadline;
        while (first.Count < Partitions)
        {
            Assert.True(DateTime.UtcNow < deadline, $"read only partitions [{string.Join(",", first.Keys)}]");
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (record is null || record.IsPartitionEOF) continue;
            first.TryAdd(record.Partition.Value, record.Offset.Value);
        }
        var offsets = new List<TopicPartitionOffset>();
        for (int p = 0; p < Partitions; p++) offsets.Add(new TopicPartitionOffset(topic, p, commitNext + p));
        consumer.Commit(offsets);
        consumer.Close();
        return first;
    }

    private static async Task<string?> GroupTypeAsync(TestBroker broker, string groupId)
    {
        var listed = await broker.Services.GetRequiredService<GroupCoordinator>().ListGroupsAsync(null, null);
        return listed.Groups.SingleOrDefault(g => g.GroupId == groupId)?.Type;
    }

    [Fact]
    public async Task AnEmptiedGroupSwitchesProtocolAndKeepsItsCommittedOffsets()
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, Partitions);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            for (int p = 0; p < Partitions; p++)
                for (int i = 0; i < 20; i++)
                    producer.Produce(new TopicPartition(topic, p), new Message<byte[], byte[]> { Value = new[] { (byte)i } });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        string groupId = "switch-" + topic;

        // Classic: starts from the beginning, commits 5,6,7.
        var classicStart = ConsumeOnceThenCommit(Config(broker, groupId, consumerProtocol: false), topic, 5);
        Assert.All(classicStart.Values, offset => Assert.Equal(0, offset));
        Assert.Equal("classic", await GroupTypeAsync(broker, groupId));

        // Upgrade: the group is empty, so a consumer-protocol member converts it and resumes at 5,6,7.
        var upgradedStart = ConsumeOnceThenCommit(Config(broker, groupId, consumerProtocol: true), topic, 10);
        for (int p = 0; p < Partitions; p++) Assert.Equal(5 + p, upgradedStart[p]);
        Assert.Equal("consumer", await GroupTypeAsync(broker, groupId));

        // Downgrade: back to classic, resuming at 10,11,12.
        var downgradedStart = ConsumeOnceThenCommit(Config(broker, groupId, consumerProtocol: false), topic, 15);
        for (int p = 0; p < Partitions; p++) Assert.Equal(10 + p, downgradedStart[p]);
        Assert.Equal("classic", await GroupTypeAsync(broker, groupId));
    }
}
