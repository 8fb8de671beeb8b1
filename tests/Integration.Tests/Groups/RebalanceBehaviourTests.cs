using Broker.Coordinator.Group;
using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using static Broker.Integration.Tests.Groups.ConsumerGroupIntegrationTests;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// What a rebalance costs the members that keep running, with Confluent.Kafka: cooperative-sticky
/// (classic) and the KIP-848 server assignors revoke only what moves; a static member that
/// restarts within session.timeout.ms comes back without a rebalance; a member killed without
/// closing loses its partitions to the others once its session times out.
/// </summary>
public class RebalanceBehaviourTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private const int SessionTimeoutMs = 6000;

    private static ConsumerConfig ConsumerProtocolConfig(TestBroker broker, string groupId, string assignor) => new()
    {
        BootstrapServers = broker.BootstrapServers,
        GroupId = groupId,
        GroupProtocol = GroupProtocol.Consumer,
        GroupRemoteAssignor = assignor,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
    };

    private static Dictionary<PollingConsumer, HashSet<TopicPartition>> Snapshot(IEnumerable<PollingConsumer> consumers) =>
        consumers.ToDictionary(c => c, c => c.Assigned);

    /// <summary>
    /// Each consumer that kept running was asked to give up exactly the partitions it no longer
    /// has: nothing it kept was revoked and re-assigned on the way.
    /// </summary>
    private static void AssertOnlyMovedPartitionsRevoked(Dictionary<PollingConsumer, HashSet<TopicPartition>> before,
        Dictionary<PollingConsumer, int> revokedBefore)
    {
        foreach (var (consumer, had) in before)
        {
            var revoked = consumer.Revoked.Skip(revokedBefore[consumer]).ToList();
            var moved = had.Except(consumer.Assigned).ToHashSet();
            Assert.True(moved.SetEquals(revoked) && revoked.Count == moved.Count,
                $"revoked [{string.Join(",", revoked.Select(p => p.Partition.Value))}] but moved [{string.Join(",", moved.Select(p => p.Partition.Value))}]");
        }
    }

    [Fact]
    public async Task CooperativeStickyRevokesOnlyThePartitionsThatMove()
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, 6);
        string groupId = "group-" + topic;
        var consumers = new List<PollingConsumer>();
        try
        {
            for (int i = 0; i < 2; i++) consumers.Add(new PollingConsumer(ClassicConfig(broker, groupId, PartitionAssignmentStrategy.CooperativeSticky), topic));
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 6, 3), Deadline, () => Poll.Describe(consumers));
            var before = Snapshot(consumers);
            var revokedBefore = consumers.ToDictionary(c => c, c => c.Revoked.Count);

            consumers.Add(new PollingConsumer(ClassicConfig(broker, groupId, PartitionAssignmentStrategy.CooperativeSticky), topic));
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 6, 2), Deadline, () => Poll.Describe(consumers));

            AssertOnlyMovedPartitionsRevoked(before, revokedBefore);
            // Two partitions changed hands: one from each of the first two members.
            Assert.All(before, kv => Assert.Single(kv.Value.Except(kv.Key.Assigned)));
        }
        finally
        {
            foreach (var c in consumers) c.Dispose();
        }
    }

    [Theory]
    [InlineData("uniform", 3)]
    [InlineData("uniform", 6)]
    [InlineData("range", 3)]
    [InlineData("range", 6)]
    public async Task ConsumerProtocolServerAssignorsBalanceAndRevokeOnlyWhatMoves(string assignor, int members)
    {
        await using var broker = await StartBrokerAsync();
        string topicA = TestBroker.UniqueTopic(), topicB = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topicA, 6);
        await CreateTopicAsync(broker, topicB, 6);
        string groupId = "group-" + topicA;
        var consumers = new List<PollingConsumer>();
        try
        {
            for (int i = 0; i < members - 1; i++)
                consumers.Add(new PollingConsumer(ConsumerProtocolConfig(broker, groupId, assignor), new[] { topicA, topicB }));
            int each = 12 / (members - 1);
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 12, each), Deadline, () => Poll.Describe(consumers));
            var before = Snapshot(consumers);
            var revokedBefore = consumers.ToDictionary(c => c, c => c.Revoked.Count);

            consumers.Add(new PollingConsumer(ConsumerProtocolConfig(broker, groupId, assignor), new[] { topicA, topicB }));
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 12, 12 / members), Deadline, () => Poll.Describe(consumers));
            Assert.All(consumers, c => Assert.InRange(c.Assigned.Count, 12 / members, (12 + members - 1) / members));

            var group = await broker.Services.GetRequiredService<GroupCoordinator>().ConsumerGroupDescribeAsync(groupId);
            Assert.Equal(assignor, group.AssignorName);
            AssertOnlyMovedPartitionsRevoked(before, revokedBefore); // both server assignors are sticky, as Kafka's are
            if (assignor == "range")
            {
                // Range co-partitions: whoever owns partition i of one topic owns it of the other.
                foreach (var c in consumers)
                {
                    var a = c.Assigned;
                    Assert.Equal(a.Where(p => p.Topic == topicA).Select(p => p.Partition.Value).OrderBy(p => p),
                        a.Where(p => p.Topic == topicB).Select(p => p.Partition.Value).OrderBy(p => p));
                }
            }
        }
        finally
        {
            foreach (var c in consumers) c.Dispose();
        }
    }

    [Fact]
    public async Task StaticMemberRestartingWithinSessionTimeoutCausesNoRebalance()
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, 6);
        string groupId = "group-" + topic;
        ConsumerConfig StaticConfig(int i)
        {
            // Eager range: any rebalance would revoke every partition of every member, so "no
            // revocation anywhere" is proof that no rebalance happened.
            var config = ClassicConfig(broker, groupId, PartitionAssignmentStrategy.Range);
            config.GroupInstanceId = "instance-" + i;
            config.SessionTimeoutMs = 30000; // long enough that a slow restart cannot reach it
            return config;
        }

        // A restart: the process dies (no LeaveGroup; static members do not send one anyway)
        // and comes back with the same group.instance.id.
        await AssertStaticRestartKeepsPartitionsAsync(topic, StaticConfig, stop: c => c.Abandon());
    }

    [Fact]
    public async Task StaticConsumerProtocolMemberRestartKeepsItsPartitionsAndTheOthersSeeNothing()
    {
        await using var broker = await StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(broker, topic, 6);
        string groupId = "group-" + topic;
        ConsumerConfig StaticConfig(int i)
        {
            var config = ConsumerProtocolConfig(broker, groupId, "uniform");
            config.GroupInstanceId = "instance-" + i;
            return config;
        }

        // A rolling restart: Close sends the static leave (member epoch -2), which keeps the
        // assignment for the instance until group.consumer.session.timeout.ms (KIP-848).
        await AssertStaticRestartKeepsPartitionsAsync(topic, StaticConfig, stop: c => c.Dispose());
    }

    /// <summary>
    /// Three static members split six partitions; the third stops (<paramref name="stop"/>) and a
    /// new consumer with its group.instance.id takes its place. It must get exactly its old
    /// partitions back while the two that kept running see no revocation and no new assignment.
    /// </summary>
    private static async Task AssertStaticRestartKeepsPartitionsAsync(string topic, Func<int, ConsumerConfig> staticConfig, Action<PollingConsumer> stop)
    {
        var consumers = new List<PollingConsumer>();
        try
        {
            for (int i = 0; i < 3; i++) consumers.Add(new PollingConsumer(staticConfig(i), topic));
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 6, 2), Deadline, () => Poll.Describe(consumers));
            var keptRunning = consumers.Take(2).ToList();
            var revokedBefore = keptRunning.Select(c => c.Revoked.Count).ToList();
            var assignEventsBefore = keptRunning.Select(c => c.AssignEvents).ToList();
            var restartedHad = consumers[2].Assigned;

            stop(consumers[2]);
            var restarted = new PollingConsumer(staticConfig(2), topic);
            consumers.Add(restarted);
            await Poll.UntilAsync(() => restarted.Assigned.Count == 2, Deadline, () => Poll.Describe(consumers));

            Assert.True(restartedHad.SetEquals(restarted.Assigned), "the restarted instance got its old partitions back");
            for (int i = 0; i < keptRunning.Count; i++)
            {
                Assert.Equal(revokedBefore[i], keptRunning[i].Revoked.Count);
                Assert.Equal(assignEventsBefore[i], keptRunning[i].AssignEvents);
            }
            Assert.True(Poll.IsExactSplit(new[] { keptRunning[0], keptRunning[1], restarted }, 6, 2), Poll.Describe(consumers));
        }
        finally
        {
            foreach (var c in consumers) c.Dispose();
        }
    }

    [Theory]
    [InlineData("range")]
    [InlineData("cooperative-sticky")]
    [InlineData("consumer")]
    public async Task KilledMemberLosesItsPartitionsOnceItsSessionTimesOut(string protocol)
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
                var config = protocol switch
                {
                    "consumer" => ConsumerProtocolConfig(broker, groupId, "uniform"),
                    "cooperative-sticky" => ClassicConfig(broker, groupId, PartitionAssignmentStrategy.CooperativeSticky),
                    _ => ClassicConfig(broker, groupId, PartitionAssignmentStrategy.Range),
                };
                consumers.Add(new PollingConsumer(config, topic));
            }
            await Poll.UntilAsync(() => Poll.IsExactSplit(consumers, 6, 2), Deadline, () => Poll.Describe(consumers));

            var revokedBefore = consumers.ToDictionary(c => c, c => c.Revoked.Count);
            var killedAt = DateTime.UtcNow;
            consumers[0].Abandon(); // Dispose without Close: no LeaveGroup, no leave heartbeat
            var survivors = consumers.Skip(1).ToList();
            await Poll.UntilAsync(() => Poll.IsExactSplit(survivors, 6, 3), Deadline, () => Poll.Describe(survivors));
            var elapsed = DateTime.UtcNow - killedAt;

            // Not earlier than the session timeout (the member really was killed, it did not leave)
            // and not much later: one heartbeat interval to notice, one to reconcile or rejoin.
            Assert.True(elapsed >= TimeSpan.FromMilliseconds(SessionTimeoutMs - 1000), $"moved after {elapsed}, before the session could time out");
            Assert.True(elapsed <= TimeSpan.FromMilliseconds(SessionTimeoutMs + 8000), $"moved after {elapsed}");
            if (protocol != "range")
            {
                // Incremental protocols: the survivors only gained partitions, nothing was revoked.
                Assert.All(survivors, c => Assert.Equal(revokedBefore[c], c.Revoked.Count));
            }
        }
        finally
        {
            foreach (var c in consumers) c.Dispose();
        }
    }
}
