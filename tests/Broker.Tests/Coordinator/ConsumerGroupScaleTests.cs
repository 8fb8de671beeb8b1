using System.Diagnostics;
using Broker.Coordinator.Group;
using Broker.Protocol;
using Xunit.Abstractions;

namespace Broker.Tests.Coordinator;

/// <summary>
/// The brief's size through the whole KIP-848 path, not just the assignor: 100 members join a
/// group over 10 topics of 100 partitions and heartbeat (reporting what they own, adopting what
/// they are given) until the group is stable. Every heartbeat is checked for double ownership;
/// the wall time of the coordinator work is printed (docs/performance-groups.md).
/// </summary>
public class ConsumerGroupScaleTests(ITestOutputHelper output)
{
    private sealed class Member
    {
        public string Id = "";
        public int Epoch;
        public TopicPartitionSet Owned = TopicPartitionSet.Empty;
    }

    [Theory]
    [InlineData("uniform")]
    [InlineData("range")]
    public async Task HundredMembersOverThousandPartitionsBecomeStable(string assignor)
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var topics = new List<string>();
        for (int t = 0; t < 10; t++)
        {
            topics.Add("scale-" + t);
            ctx.Metadata.AddTopic(topics[t], 100);
        }
        const string GroupId = "scale";
        var members = new List<Member>();
        var owner = new Dictionary<(Guid, int), Member>();
        int heartbeats = 0;
        var watch = Stopwatch.StartNew();

        async Task BeatAsync(Member m)
        {
            var result = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams(GroupId, m.Id, m.Epoch,
                null, null, m.Epoch == 0 ? 60000 : -1, m.Epoch == 0 ? topics : null, null, m.Epoch == 0 ? assignor : null, m.Owned,
                "client", "/127.0.0.1", 1)).WaitAsync(CoordinatorTestContext.Timeout);
            heartbeats++;
            Assert.Equal(ErrorCode.None, result.Error);
            m.Id = result.MemberId!;
            m.Epoch = result.MemberEpoch;
            if (result.Assignment is null) return;
            foreach (var tp in m.Owned.All()) owner.Remove(tp);
            foreach (var tp in result.Assignment.All())
                Assert.True(owner.TryAdd(tp, m), $"partition {tp} given to a second member");
            m.Owned = result.Assignment;
        }

        for (int i = 0; i < 100; i++)
        {
            var m = new Member();
            members.Add(m);
            await BeatAsync(m);
        }
        long joinedMs = watch.ElapsedMilliseconds;
        int rounds = 0;
        DescribedConsumerGroup described;
        while (true)
        {
            described = await ctx.Coordinator.ConsumerGroupDescribeAsync(GroupId);
            if (IsStable(described, members)) break;
            Assert.True(++rounds <= 10, $"not stable after {rounds - 1} rounds of heartbeats");
            foreach (var m in members) await BeatAsync(m);
        }
        watch.Stop();

        Assert.Equal(1000, owner.Count);
        Assert.All(members, m => Assert.Equal(10, m.Owned.Count));
        Assert.Equal(assignor, described.AssignorName);
        output.WriteLine($"{assignor}: 100 members x 1000 partitions stable after {rounds} rounds, {heartbeats} heartbeats, {watch.ElapsedMilliseconds} ms ({joinedMs} ms for the joins)");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    private static bool IsStable(DescribedConsumerGroup group, List<Member> members)
    {
        if (group.State != "Stable") return false;
        foreach (var m in members)
            if (m.Epoch != group.AssignmentEpoch) return false;
        foreach (var described in group.Members)
            if (!described.Assignment.SetEquals(described.TargetAssignment)) return false;
        return true;
    }
}
