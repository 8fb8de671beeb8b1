using Broker.Coordinator.Group;
using Broker.Coordinator.Group.Assignors;
using Broker.Protocol;

namespace Broker.Tests.Coordinator;

public class ConsumerGroupTests
{
    private sealed class Member(string id)
    {
        public string Id = id;
        public int Epoch;
        public TopicPartitionSet Owned = TopicPartitionSet.Empty;
    }

    private static ConsumerGroupHeartbeatParams Params(string groupId, Member m, IReadOnlyList<string>? topics = null, string? assignor = null,
        string? instanceId = null, int? epoch = null) =>
        new(groupId, m.Id, epoch ?? m.Epoch, instanceId, null, m.Epoch == 0 ? 20000 : -1, m.Epoch == 0 ? topics : null, null,
            assignor, m.Owned, "client", "/127.0.0.1", 1);

    /// <summary>Heartbeats like a well-behaved client: adopts the assignment it is given.</summary>
    private static async Task<ConsumerGroupHeartbeatResult> BeatAsync(CoordinatorTestContext ctx, string groupId, Member m,
        IReadOnlyList<string>? topics = null, string? assignor = null)
    {
        var result = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Params(groupId, m, topics, assignor)).WaitAsync(CoordinatorTestContext.Timeout);
        Assert.Equal(ErrorCode.None, result.Error);
        m.Id = result.MemberId!;
        m.Epoch = result.MemberEpoch;
        if (result.Assignment is not null) m.Owned = result.Assignment;
        return result;
    }

    private static void AssertNoDoubleOwnership(IEnumerable<Member> members)
    {
        var seen = new HashSet<(Guid, int)>();
        foreach (var m in members)
            foreach (var tp in m.Owned.All())
                Assert.True(seen.Add(tp), $"partition {tp} owned twice");
    }

    [Fact]
    public async Task MembersConvergeToBalancedAssignmentWithoutDoubleOwnership()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("orders", 6);
        var topics = new[] { "orders" };
        var members = new List<Member>();
        for (int i = 0; i < 3; i++)
        {
            var m = new Member("");
            await BeatAsync(ctx, "cg1", m, topics);
            members.Add(m);
            AssertNoDoubleOwnership(members);
            // Everyone heartbeats a few rounds; ownership is exclusive after every single heartbeat.
            for (int round = 0; round < 4; round++)
                foreach (var member in members)
                {
                    await BeatAsync(ctx, "cg1", member);
                    AssertNoDoubleOwnership(members);
                }
        }
        Assert.All(members, m => Assert.Equal(2, m.Owned.Count));
        Assert.Equal(6, members.Sum(m => m.Owned.Count));
        var described = await ctx.Coordinator.ConsumerGroupDescribeAsync("cg1");
        Assert.Equal("Stable", described.State);
        Assert.Equal("uniform", described.AssignorName);
        Assert.All(members, m => Assert.Equal(described.AssignmentEpoch, m.Epoch));
    }

    [Fact]
    public async Task PartitionsOfALeavingMemberGoToTheOthers()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("orders", 6);
        var members = new List<Member>();
        for (int i = 0; i < 3; i++)
        {
            var m = new Member("");
            await BeatAsync(ctx, "cg-leave", m, new[] { "orders" });
            members.Add(m);
            for (int round = 0; round < 3; round++)
                foreach (var member in members) await BeatAsync(ctx, "cg-leave", member);
        }
        Assert.All(members, m => Assert.Equal(2, m.Owned.Count));
        var leave = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Params("cg-leave", members[0], epoch: -1));
        Assert.Equal(ErrorCode.None, leave.Error);
        var remaining = members.Skip(1).ToList();
        for (int round = 0; round < 3; round++)
            foreach (var member in remaining)
            {
                await BeatAsync(ctx, "cg-leave", member);
                AssertNoDoubleOwnership(remaining);
            }
        Assert.All(remaining, m => Assert.Equal(3, m.Owned.Count));
    }

    [Fact]
    public async Task AssignmentIsResentUntilTheMemberReportsOwningIt()
    {
        // Regression: librdkafka dropped an assignment that arrived while it acknowledged the
        // previous one, then heartbeat with null owned partitions forever.
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 2);
        var a = new Member("");
        await BeatAsync(ctx, "cg-resend", a, new[] { "t" });
        var silent = new ConsumerGroupHeartbeatParams("cg-resend", a.Id, a.Epoch, null, null, -1, null, null, null, null, "c", "/h", 1);
        var again = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(silent);
        Assert.Equal(2, again.Assignment!.Count); // not acknowledged yet: sent again
        await BeatAsync(ctx, "cg-resend", a); // reports owning both
        var quiet = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(silent);
        Assert.Null(quiet.Assignment); // acknowledged: nothing to send
    }

    [Fact]
    public async Task PartitionIsRevokedBeforeItIsAssignedElsewhere()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 2);
        var a = new Member("");
        await BeatAsync(ctx, "cg2", a, new[] { "t" });
        Assert.Equal(2, a.Owned.Count);

        var b = new Member("");
        var joined = await BeatAsync(ctx, "cg2", b, new[] { "t" });
        Assert.True(b.Owned.IsEmpty); // a still holds both: nothing may be given to b yet

        // a is told to drop one partition; until it confirms, b gets nothing.
        var revoke = await BeatAsync(ctx, "cg2", a);
        Assert.Equal(1, a.Owned.Count);
        await BeatAsync(ctx, "cg2", b);
        // a's heartbeat above carried its reduced owned set, so the partition is free now.
        await BeatAsync(ctx, "cg2", a);
        await BeatAsync(ctx, "cg2", b);
        Assert.Equal(1, b.Owned.Count);
        AssertNoDoubleOwnership(new[] { a, b });
        Assert.Equal(a.Epoch, b.Epoch);
        Assert.NotNull(revoke.Assignment);
        Assert.Equal(ErrorCode.None, joined.Error);
    }

    [Fact]
    public async Task MemberThatNeverRevokesIsFencedAfterRebalanceTimeout()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 2);
        var a = new Member("");
        await BeatAsync(ctx, "cg3", a, new[] { "t" });
        var b = new Member("");
        await BeatAsync(ctx, "cg3", b, new[] { "t" });
        // a learns it must revoke but keeps claiming both partitions.
        var stubborn = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Params("cg3", a));
        Assert.Equal(ErrorCode.None, stubborn.Error);
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(21));
        var fenced = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Params("cg3", a));
        Assert.Equal(ErrorCode.UnknownMemberId, fenced.Error);
        await BeatAsync(ctx, "cg3", b);
        await BeatAsync(ctx, "cg3", b);
        Assert.Equal(2, b.Owned.Count);
    }

    [Fact]
    public async Task SessionTimeoutRemovesSilentMember()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 4);
        var a = new Member("");
        var b = new Member("");
        await BeatAsync(ctx, "cg4", a, new[] { "t" });
        await BeatAsync(ctx, "cg4", b, new[] { "t" });
        for (int i = 0; i < 3; i++) { await BeatAsync(ctx, "cg4", a); await BeatAsync(ctx, "cg4", b); }
        Assert.Equal(2, a.Owned.Count);
        for (int i = 0; i < 5; i++)
        {
            await ctx.AdvanceAsync(TimeSpan.FromSeconds(10)); // b is silent for 50 s > 45 s
            await BeatAsync(ctx, "cg4", a);
        }
        Assert.Equal(4, a.Owned.Count);
        var described = await ctx.Coordinator.ConsumerGroupDescribeAsync("cg4");
        Assert.Single(described.Members);
    }

    [Fact]
    public async Task StaleOrFutureEpochIsFencedAndLeaveRemovesMember()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 1);
        var a = new Member("");
        await BeatAsync(ctx, "cg5", a, new[] { "t" });
        var future = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Params("cg5", a, epoch: a.Epoch + 5));
        Assert.Equal(ErrorCode.FencedMemberEpoch, future.Error);
        var unsupported = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Params("cg5", new Member(""), new[] { "t" }, assignor: "nope"));
        Assert.Equal(ErrorCode.UnsupportedAssignor, unsupported.Error);
        var leave = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Params("cg5", a, epoch: -1));
        Assert.Equal(ErrorCode.None, leave.Error);
        Assert.Equal(-1, leave.MemberEpoch);
        Assert.Empty((await ctx.Coordinator.ConsumerGroupDescribeAsync("cg5")).Members);
    }

    [Fact]
    public async Task ConsumerGroupSurvivesRestartAndCommitsNeedCurrentEpoch()
    {
        var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 3);
        var a = new Member("");
        await BeatAsync(ctx, "cg6", a, new[] { "t" }, assignor: "range");
        var commit = await ctx.Coordinator.CommitOffsetsAsync(new OffsetCommitParams("cg6", a.Epoch, a.Id, null, -1, 9,
            new[] { new OffsetCommitPartition("t", 0, 11, -1, null) }));
        Assert.Equal(ErrorCode.None, commit[0].Error);
        var stale = await ctx.Coordinator.CommitOffsetsAsync(new OffsetCommitParams("cg6", a.Epoch - 1, a.Id, null, -1, 9,
            new[] { new OffsetCommitPartition("t", 0, 12, -1, null) }));
        Assert.Equal(ErrorCode.StaleMemberEpoch, stale[0].Error);

        ctx = await ctx.RestartAsync();
        await using var _ = ctx;
        var described = await ctx.Coordinator.ConsumerGroupDescribeAsync("cg6");
        Assert.Equal(ErrorCode.None, described.Error);
        Assert.Equal(3, described.Members.Single().Assignment.Count);
        Assert.Equal(a.Epoch, described.Members.Single().MemberEpoch);
        var again = await BeatAsync(ctx, "cg6", a);
        Assert.Null(again.Assignment); // nothing changed for the member
        Assert.Equal(11, await ctx.FetchOffsetAsync("cg6", "t", 0));
    }

    [Fact]
    public async Task NewPartitionsBumpTheGroupEpoch()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("grow", 2);
        var a = new Member("");
        await BeatAsync(ctx, "cg7", a, new[] { "grow" });
        int epoch = a.Epoch;
        ctx.Metadata.AddTopic("grow", 4);
        await BeatAsync(ctx, "cg7", a);
        Assert.True(a.Epoch > epoch);
        Assert.Equal(4, a.Owned.Count);
    }
}

public class AssignorTests
{
    private static AssignmentSpec Spec(int members, int partitions, IReadOnlyDictionary<string, TopicPartitionSet>? previous = null, params Guid[] topics)
    {
        var list = new List<AssignmentMember>();
        for (int i = 0; i < members; i++) list.Add(new AssignmentMember($"member-{i:D3}", null, topics));
        var counts = topics.ToDictionary(t => t, _ => partitions);
        return new AssignmentSpec(list, counts, previous ?? new Dictionary<string, TopicPartitionSet>());
    }

    private static void AssertCompleteAndExclusive(IReadOnlyDictionary<string, TopicPartitionSet> result, int expectedTotal)
    {
        var seen = new HashSet<(Guid, int)>();
        foreach (var set in result.Values)
            foreach (var tp in set.All())
                Assert.True(seen.Add(tp));
        Assert.Equal(expectedTotal, seen.Count);
    }

    [Fact]
    public void UniformIsBalancedAndSticky()
    {
        var t1 = Guid.NewGuid();
        var t2 = Guid.NewGuid();
        var assignor = new UniformAssignor();
        var first = assignor.Assign(Spec(7, 50, null, t1, t2));
        AssertCompleteAndExclusive(first, 100);
        Assert.True(first.Values.Max(s => s.Count) - first.Values.Min(s => s.Count) <= 1);

        // One more member: balanced again, and only partitions needed for balance move.
        var second = assignor.Assign(Spec(8, 50, first, t1, t2));
        AssertCompleteAndExclusive(second, 100);
        Assert.True(second.Values.Max(s => s.Count) - second.Values.Min(s => s.Count) <= 1);
        int moved = 0;
        foreach (var (member, set) in first)
            moved += set.Except(second[member]).Count;
        Assert.True(moved <= 13, $"moved {moved} partitions, expected at most 13");
    }

    [Fact]
    public void UniformHandlesDifferentSubscriptions()
    {
        var t1 = Guid.NewGuid();
        var t2 = Guid.NewGuid();
        var spec = new AssignmentSpec(new[]
        {
            new AssignmentMember("a", null, new[] { t1 }),
            new AssignmentMember("b", null, new[] { t1, t2 }),
            new AssignmentMember("c", null, new[] { t2 }),
        }, new Dictionary<Guid, int> { [t1] = 4, [t2] = 4 }, new Dictionary<string, TopicPartitionSet>());
        var result = new UniformAssignor().Assign(spec);
        AssertCompleteAndExclusive(result, 8);
        Assert.DoesNotContain(result["a"].All(), tp => tp.TopicId == t2);
        Assert.DoesNotContain(result["c"].All(), tp => tp.TopicId == t1);
        Assert.True(result.Values.Max(s => s.Count) - result.Values.Min(s => s.Count) <= 1);
    }

    [Fact]
    public void RangeCoPartitionsTopics()
    {
        var t1 = Guid.NewGuid();
        var t2 = Guid.NewGuid();
        var result = new RangeAssignor().Assign(Spec(3, 7, null, t1, t2));
        AssertCompleteAndExclusive(result, 14);
        Assert.Equal(new[] { 0, 1, 2 }, result["member-000"].Topics[t1]);
        foreach (var set in result.Values) Assert.Equal(set.Topics[t1], set.Topics[t2]);
    }

    [Fact]
    public void RangeIsStickyAndStaysCoPartitioned()
    {
        var t1 = Guid.NewGuid();
        var t2 = Guid.NewGuid();
        var assignor = new RangeAssignor();
        var three = assignor.Assign(Spec(3, 7, null, t1, t2));

        // A fourth member: slots 2,2,2,1 per topic; only member-000's third partition moves.
        var four = assignor.Assign(Spec(4, 7, three, t1, t2));
        AssertCompleteAndExclusive(four, 14);
        int moved = 0;
        foreach (var (member, set) in three) moved += set.Except(four[member]).Count;
        Assert.Equal(2, moved); // one per topic
        foreach (var set in four.Values)
        {
            Assert.Equal(set.Topics[t1], set.Topics[t2]);
            Assert.InRange(set.Topics[t1].Length, 1, 2);
        }

        // member-001 leaves: nobody else loses a partition, and the ranges stay co-partitioned.
        var leftSpec = Spec(4, 7, four, t1, t2);
        var remaining = new AssignmentSpec(leftSpec.Members.Where(m => m.MemberId != "member-001").ToList(),
            leftSpec.TopicPartitionCounts, four);
        var three2 = assignor.Assign(remaining);
        AssertCompleteAndExclusive(three2, 14);
        foreach (var (member, set) in three2)
        {
            Assert.Empty(four[member].Except(set).All());
            Assert.Equal(set.Topics[t1], set.Topics[t2]);
        }
    }

    [Fact]
    public void HundredMembersOverThousandPartitionsIsBalancedQuickly()
    {
        var topic = Guid.NewGuid();
        var assignor = new UniformAssignor();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = assignor.Assign(Spec(100, 1000, null, topic));
        var again = assignor.Assign(Spec(100, 1000, result, topic));
        watch.Stop();
        AssertCompleteAndExclusive(again, 1000);
        Assert.All(again.Values, s => Assert.Equal(10, s.Count));
        Assert.All(result, kv => Assert.True(kv.Value.SetEquals(again[kv.Key]))); // stable: nothing moves
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
