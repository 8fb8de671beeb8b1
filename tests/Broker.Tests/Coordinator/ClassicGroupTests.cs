using Broker.Coordinator.Group;
using Broker.Protocol;

namespace Broker.Tests.Coordinator;

public class GroupPartitionerTests
{
    [Theory]
    // Values computed with Java: (s.hashCode() & 0x7fffffff) % 50
    [InlineData("my-group", -1906497762, 36)]
    [InlineData("test-group", 627841412, 12)]
    [InlineData("console-consumer-12345", 158455506, 6)]
    [InlineData("polygenelubricants", int.MinValue, 0)]
    public void MatchesKafkaPartitioning(string groupId, int javaHash, int partition)
    {
        Assert.Equal(javaHash, GroupPartitioner.JavaHashCode(groupId));
        Assert.Equal(partition, GroupPartitioner.PartitionFor(groupId, 50));
    }
}

public class ClassicGroupTests
{
    [Fact]
    public async Task MemberIdRequiredThenJoinCompletesWithSingleMemberAsLeader()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var first = await ctx.JoinAsync("g1");
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        Assert.StartsWith("client-", first.MemberId);

        var joined = await ctx.JoinAsync("g1", first.MemberId);
        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.Equal(1, joined.GenerationId);
        Assert.Equal(first.MemberId, joined.LeaderId);
        Assert.Equal("range", joined.ProtocolName);
        Assert.Single(joined.Members!);
    }

    [Fact]
    public async Task OldVersionsJoinWithoutMemberIdRequired()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var joined = await ctx.JoinAsync("g-old", version: 3);
        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.Equal(1, joined.GenerationId);
    }

    [Fact]
    public async Task TwoMembersShareOneGenerationAndReceiveLeaderAssignment()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync(new GroupCoordinatorConfig
        { OffsetsTopicNumPartitions = 4, GroupInitialRebalanceDelayMs = 1000 });
        var joinA = await ctx.StartJoinWithIdAsync("g2");
        var joinB = await ctx.StartJoinWithIdAsync("g2");
        Assert.False(joinA.IsCompleted); // the initial rebalance delay holds the first generation
        await ctx.AdvanceAsync(TimeSpan.FromMilliseconds(1100));
        await ctx.AdvanceAsync(TimeSpan.FromMilliseconds(1100));
        var a = await joinA.WaitAsync(CoordinatorTestContext.Timeout);
        var b = await joinB.WaitAsync(CoordinatorTestContext.Timeout);
        Assert.Equal(ErrorCode.None, a.Error);
        Assert.Equal(a.GenerationId, b.GenerationId);
        var leader = a.MemberId == a.LeaderId ? a : b;
        var follower = leader == a ? b : a;
        Assert.Equal(2, leader.Members!.Count);
        Assert.Empty(follower.Members!);

        var followerSync = ctx.SyncAsync("g2", follower.GenerationId, follower.MemberId);
        Assert.False(followerSync.IsCompleted);
        var leaderSync = await ctx.SyncAsync("g2", leader.GenerationId, leader.MemberId,
            new[] { (leader.MemberId, new byte[] { 1 }), (follower.MemberId, new byte[] { 2 }) });
        Assert.Equal(new byte[] { 1 }, leaderSync.Assignment);
        Assert.Equal(new byte[] { 2 }, (await followerSync).Assignment);

        Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("g2", a.GenerationId, a.MemberId));
        Assert.Equal(ErrorCode.IllegalGeneration, await ctx.HeartbeatAsync("g2", a.GenerationId + 1, a.MemberId));
        Assert.Equal(ErrorCode.UnknownMemberId, await ctx.HeartbeatAsync("g2", a.GenerationId, "nobody"));
        var described = await ctx.Coordinator.DescribeGroupAsync("g2");
        Assert.Equal("Stable", described.State);
        Assert.Equal(2, described.Members.Count);
    }

    private static async Task<(JoinGroupResult Leader, JoinGroupResult Follower)> StableGroupOfTwoAsync(CoordinatorTestContext ctx, string groupId, int sessionTimeoutMs = 10000)
    {
        var joinA = await ctx.StartJoinWithIdAsync(groupId, sessionTimeoutMs: sessionTimeoutMs);
        var a1 = await joinA; // generation 1 with A alone (delay 0)
        var joinB = await ctx.StartJoinWithIdAsync(groupId, sessionTimeoutMs: sessionTimeoutMs);
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync(groupId, a1.GenerationId, a1.MemberId));
        var a = await ctx.JoinAsync(groupId, a1.MemberId, sessionTimeoutMs: sessionTimeoutMs);
        var b = await joinB;
        Assert.Equal(2, a.GenerationId);
        var leader = a.MemberId == a.LeaderId ? a : b;
        var follower = leader == a ? b : a;
        var followerSync = ctx.SyncAsync(groupId, follower.GenerationId, follower.MemberId);
        await ctx.SyncAsync(groupId, leader.GenerationId, leader.MemberId,
            new[] { (leader.MemberId, new byte[] { 1 }), (follower.MemberId, new byte[] { 2 }) });
        await followerSync;
        return (leader, follower);
    }

    [Fact]
    public async Task SessionExpiryRemovesMemberAndRebalances()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var (leader, follower) = await StableGroupOfTwoAsync(ctx, "g3", sessionTimeoutMs: 6000);
        for (int i = 0; i < 2; i++)
        {
            await ctx.AdvanceAsync(TimeSpan.FromSeconds(2));
            Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("g3", leader.GenerationId, leader.MemberId));
        }
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(3)); // follower silent for 7 s > 6 s
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync("g3", leader.GenerationId, leader.MemberId));
        var rejoined = await ctx.JoinAsync("g3", leader.MemberId, sessionTimeoutMs: 6000);
        Assert.Equal(3, rejoined.GenerationId);
        Assert.Single(rejoined.Members!);
        Assert.Equal(ErrorCode.UnknownMemberId, await ctx.HeartbeatAsync("g3", rejoined.GenerationId, follower.MemberId));
    }

    [Fact]
    public async Task MemberThatDoesNotRejoinIsDroppedAfterRebalanceTimeout()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var (leader, follower) = await StableGroupOfTwoAsync(ctx, "g3b");
        var rejoin = ctx.JoinAsync("g3b", leader.MemberId, protocols: CoordinatorTestContext.Protocols("range", "roundrobin"));
        await ctx.DrainAsync();
        Assert.False(rejoin.IsCompleted);
        // The follower keeps heartbeating but never rejoins; the join phase ends at the rebalance timeout.
        for (int i = 0; i < 8; i++)
        {
            await ctx.AdvanceAsync(TimeSpan.FromSeconds(4));
            await ctx.HeartbeatAsync("g3b", follower.GenerationId, follower.MemberId);
        }
        var result = await rejoin;
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Single(result.Members!);
    }

    [Fact]
    public async Task LeaveGroupTriggersRebalanceAndBatchedLeaveReportsPerMember()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var (leader, follower) = await StableGroupOfTwoAsync(ctx, "g4");
        var leave = await ctx.Coordinator.LeaveGroupAsync("g4", new[] { new LeaveGroupMember(follower.MemberId, null), new LeaveGroupMember("ghost", null) });
        Assert.Equal(ErrorCode.None, leave.Error);
        Assert.Equal(ErrorCode.None, leave.Members[0].Error);
        Assert.Equal(ErrorCode.UnknownMemberId, leave.Members[1].Error);
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync("g4", leader.GenerationId, leader.MemberId));
        var rejoined = await ctx.JoinAsync("g4", leader.MemberId);
        Assert.Equal(ErrorCode.None, rejoined.Error);
        Assert.Single(rejoined.Members!);
    }

    [Fact]
    public async Task StaticMemberRestartKeepsGenerationAndFencesOldInstance()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var a = await ctx.JoinAsync("g5", instanceId: "instance-a");
        Assert.Equal(ErrorCode.None, a.Error); // static members skip MEMBER_ID_REQUIRED
        await ctx.SyncAsync("g5", a.GenerationId, a.MemberId, new[] { (a.MemberId, new byte[] { 7 }) }, "instance-a");

        var restarted = await ctx.JoinAsync("g5", instanceId: "instance-a");
        Assert.Equal(ErrorCode.None, restarted.Error);
        Assert.NotEqual(a.MemberId, restarted.MemberId);
        Assert.Equal(a.GenerationId, restarted.GenerationId); // no rebalance
        Assert.True(restarted.SkipAssignment); // it was the leader (KIP-814)
        var sync = await ctx.SyncAsync("g5", restarted.GenerationId, restarted.MemberId, instanceId: "instance-a");
        Assert.Equal(new byte[] { 7 }, sync.Assignment);

        Assert.Equal(ErrorCode.FencedInstanceId, await ctx.HeartbeatAsync("g5", a.GenerationId, a.MemberId, "instance-a"));
        var fencedCommit = await ctx.Coordinator.CommitOffsetsAsync(new OffsetCommitParams("g5", a.GenerationId, a.MemberId, "instance-a", -1, 8,
            new[] { new OffsetCommitPartition("t", 0, 1, -1, null) }));
        Assert.Equal(ErrorCode.FencedInstanceId, fencedCommit[0].Error);
    }

    [Fact]
    public async Task InconsistentProtocolTypeOrProtocolsAreRejected()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var a = await (await ctx.StartJoinWithIdAsync("g6"));
        Assert.Equal(ErrorCode.None, a.Error);
        var wrongType = await ctx.JoinAsync("g6", protocolType: "connect", version: 3);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, wrongType.Error);
        var noCommonProtocol = await ctx.JoinAsync("g6", protocols: CoordinatorTestContext.Protocols("cooperative-sticky"), version: 3);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, noCommonProtocol.Error);
    }

    [Fact]
    public async Task ProtocolIsChosenByMemberPreferenceAmongCommonOnes()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync(new GroupCoordinatorConfig { OffsetsTopicNumPartitions = 1, GroupInitialRebalanceDelayMs = 500 });
        var joinA = await ctx.StartJoinWithIdAsync("g7", CoordinatorTestContext.Protocols("cooperative-sticky", "range"));
        var joinB = await ctx.StartJoinWithIdAsync("g7", CoordinatorTestContext.Protocols("cooperative-sticky", "range", "roundrobin"));
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(1));
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal("cooperative-sticky", (await joinA).ProtocolName);
        Assert.Equal("cooperative-sticky", (await joinB).ProtocolName);
    }

    [Fact]
    public async Task CooperativeMembersCommitDuringRebalanceButNotBeforeSync()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var (leader, follower) = await StableGroupOfTwoAsync(ctx, "g8");
        // A third member joins: the group prepares a rebalance; cooperative members keep consuming
        // and committing with the current generation until they rejoin.
        var joinC = await ctx.StartJoinWithIdAsync("g8");
        var commit = await ctx.CommitAsync("g8", follower.GenerationId, follower.MemberId, "t", 0, 42);
        Assert.Equal(ErrorCode.None, commit[0].Error);
        var rejoinA = ctx.JoinAsync("g8", leader.MemberId);
        var rejoinB = ctx.JoinAsync("g8", follower.MemberId);
        var a = await rejoinA;
        await rejoinB;
        await joinC;
        Assert.Equal(3, a.GenerationId);
        var early = await ctx.CommitAsync("g8", a.GenerationId, a.MemberId, "t", 0, 43);
        Assert.Equal(ErrorCode.RebalanceInProgress, early[0].Error); // CompletingRebalance
        var stale = await ctx.CommitAsync("g8", a.GenerationId - 1, a.MemberId, "t", 0, 43);
        Assert.Equal(ErrorCode.IllegalGeneration, stale[0].Error);
        Assert.Equal(42, await ctx.FetchOffsetAsync("g8", "t", 0));
    }

    [Fact]
    public async Task UnknownMemberAndUnknownGroupErrors()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        Assert.Equal(ErrorCode.UnknownMemberId, (await ctx.JoinAsync("nogroup", "some-member")).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await ctx.SyncAsync("nogroup", 1, "some-member")).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, await ctx.HeartbeatAsync("nogroup", 1, "some-member"));
        Assert.Equal(ErrorCode.InvalidSessionTimeout, (await ctx.JoinAsync("g9", sessionTimeoutMs: 10)).Error);
    }
}
