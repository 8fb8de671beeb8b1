using Broker.Integration.Tests.Infrastructure;
using Broker.Replication.Metadata;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// Real clients (Confluent.Kafka / librdkafka) against the in-process broker: classic groups with
/// client-side assignors, KIP-848 groups with server-side assignment, failure of a member and
/// offsets surviving a broker restart.
/// </summary>
public class ConsumerGroupIntegrationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    internal static Task<TestBroker> StartBrokerAsync() => TestBroker.StartAsync(new Dictionary<string, string>
    {
        ["group.initial.rebalance.delay.ms"] = "0",
        ["group.consumer.heartbeat.interval.ms"] = "500",
        ["group.consumer.session.timeout.ms"] = "6000",
        ["group.consumer.min.session.timeout.ms"] = "6000",
        ["group.consumer.min.heartbeat.interval.ms"] = "500",
    });

    internal static Task CreateTopicAsync(TestBroker broker, string topic, int partitions)
    {
        var result = broker.Services.GetRequiredService<TopicMetadataStore>().CreateTopic(topic, partitions, 1);
        Assert.True(result.Succeeded, result.ErrorMessage);
        return Task.CompletedTask;
    }

    internal static ConsumerConfig ClassicConfig(TestBroker broker, string groupId, PartitionAssignmentStrategy strategy) => new()
    {
        BootstrapServers = broker.BootstrapServers,
        GroupId = groupId,
        PartitionAssignmentStrategy = strategy,
        SessionTimeoutMs = 6000,
        HeartbeatIntervalMs = 500,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        TopicMetadataRefreshIntervalMs = 1000,
    };

    [Theory]
    [InlineData(PartitionAssignmentStrategy.Range)]
    [InlineData(PartitionAssignmentStrategy.RoundRobin)]
    [InlineData(PartitionAssignmentStrategy.CooperativeSticky)]
    public async Task ThreeClassicConsumersSplitPartitions(PartitionAssignmentStrategy strategy)
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, 6);
        string groupId = "group-" + topic;
        var consumers = new List<PollingConsumer>();
        try
        {
            for (int i = 0; i < 3; i++) consumers.Add(new PollingConsumer(ClassicConfig(broker, groupId, strategy), topic));
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 6, 2), Deadline, () => Poll.Describe(consumers));
            Assert.All(consumers, c => Assert.Equal(2, c.Assigned.Count));
        }
        finally
        {
            foreach (var c in consumers) c.Dispose();
        }
    }

    [Fact]
    public async Task PartitionsOfAMemberThatLeavesOrDiesMoveToTheOthers()
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, 6);
        string groupId = "group-" + topic;
        var consumers = new List<PollingConsumer>();
        try
        {
            for (int i = 0; i < 3; i++) consumers.Add(new PollingConsumer(ClassicConfig(broker, groupId, PartitionAssignmentStrategy.Range), topic));
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 6, 2), Deadline, () => Poll.Describe(consumers));

            // A clean leave (Close sends LeaveGroup): the other two take over at once.
            consumers[0].Dispose();
            var remaining = consumers.Skip(1).ToList();
            await Poll.UntilAsync(() => Poll.IsExactSplit(remaining, 6, 3), Deadline, () => Poll.Describe(remaining));

            // A member that is torn down without Close: its partitions move within the session timeout.
            var started = DateTime.UtcNow;
            consumers[1].Abandon();
            var last = consumers.Skip(2).ToList();
            await Poll.UntilAsync(() => Poll.IsExactSplit(last, 6, 6), TimeSpan.FromSeconds(30), () => Poll.Describe(last));
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(6 + 10), "partitions moved within session.timeout.ms plus a rejoin");
        }
        finally
        {
            foreach (var c in consumers) c.Dispose();
        }
    }

    [Fact]
    public async Task CommittedOffsetsSurviveBrokerRestart()
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, 2);
        string groupId = "group-" + topic;
        var partition0 = new TopicPartition(topic, 0);
        var partition1 = new TopicPartition(topic, 1);
        using (var consumer = new ConsumerBuilder<byte[], byte[]>(ClassicConfig(broker, groupId, PartitionAssignmentStrategy.Range)).Build())
        {
            // A simple (unsubscribed) consumer commits with generation -1.
            consumer.Commit(new[] { new TopicPartitionOffset(partition0, 17), new TopicPartitionOffset(partition1, 4) });
            var committed = consumer.Committed(new[] { partition0, partition1 }, TimeSpan.FromSeconds(20));
            Assert.Equal(17, committed.Single(c => c.Partition == 0).Offset.Value);
            consumer.Close();
        }

        await broker.RestartAsync();

        using var after = new ConsumerBuilder<byte[], byte[]>(ClassicConfig(broker, groupId, PartitionAssignmentStrategy.Range)).Build();
        List<TopicPartitionOffset>? offsets = null;
        await Poll.UntilAsync(() =>
        {
            try { offsets = after.Committed(new[] { partition0, partition1 }, TimeSpan.FromSeconds(5)); return true; }
            catch (KafkaException) { return false; } // coordinator still loading
        }, Deadline, () => "committed offsets not readable");
        Assert.Equal(17, offsets!.Single(c => c.Partition == 0).Offset.Value);
        Assert.Equal(4, offsets!.Single(c => c.Partition == 1).Offset.Value);
    }

    [Fact]
    public async Task ConsumerProtocolGroupGetsBalancedServerSideAssignment()
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, 6);
        string groupId = "group-" + topic;
        var consumers = new List<PollingConsumer>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var config = new ConsumerConfig
                {
                    BootstrapServers = broker.BootstrapServers,
                    GroupId = groupId,
                    GroupProtocol = GroupProtocol.Consumer,
                    AutoOffsetReset = AutoOffsetReset.Earliest,
                    EnableAutoCommit = false,
                };
                consumers.Add(new PollingConsumer(config, topic));
            }
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 6, 2), Deadline, () => Poll.Describe(consumers));
            Assert.All(consumers, c => Assert.Equal(2, c.Assigned.Count));

            // A member leaves: the other two share all six partitions, never double-assigned.
            consumers[0].Dispose();
            var remaining = consumers.Skip(1).ToList();
            await Poll.UntilAsync(() => Poll.IsExactSplit(remaining, 6, 3), Deadline, () => Poll.Describe(remaining));
        }
        finally
        {
            foreach (var c in consumers) c.Dispose();
        }
    }
}
