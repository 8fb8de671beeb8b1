using Broker.Coordinator.Group;
using Broker.Protocol;

namespace Broker.Tests.Coordinator;

public class OffsetAndReplayTests
{
    [Fact]
    public async Task SimpleCommitsWorkWithoutGroupAndGenerationChecksApply()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        Assert.Equal(ErrorCode.None, (await ctx.CommitAsync("simple", -1, "", "t", 0, 10))[0].Error);
        Assert.Equal(10, await ctx.FetchOffsetAsync("simple", "t", 0));
        Assert.Equal(-1, await ctx.FetchOffsetAsync("simple", "t", 1));
        Assert.Equal(-1, await ctx.FetchOffsetAsync("unknown-group", "t", 0));
        Assert.Equal(ErrorCode.IllegalGeneration, (await ctx.CommitAsync("nogroup", 5, "m", "t", 0, 10))[0].Error);
        Assert.Equal(ErrorCode.GroupIdNotFound, (await ctx.CommitAsync("nogroup", 5, "m", "t", 0, 10, version: 9))[0].Error);

        var tooLarge = await ctx.Coordinator.CommitOffsetsAsync(new OffsetCommitParams("simple", -1, "", null, -1, 8,
            new[] { new OffsetCommitPartition("t", 2, 5, -1, new string('x', 5000)) }));
        Assert.Equal(ErrorCode.OffsetMetadataTooLarge, tooLarge[0].Error);

        var all = await ctx.Coordinator.FetchOffsetsAsync(new OffsetFetchParams("simple", null, -1, null, true));
        Assert.Single(all.Offsets);
        var listed = await ctx.Coordinator.ListGroupsAsync(null, null);
        Assert.Contains(listed.Groups, g => g.GroupId == "simple" && g.State == "Empty" && g.Type == "classic");
    }

    [Fact]
    public async Task FailedAppendReportsCoordinatorErrorAndChangesNothing()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Log.FailAppendsWith = ErrorCode.NotLeaderOrFollower;
        Assert.Equal(ErrorCode.NotCoordinator, (await ctx.CommitAsync("g", -1, "", "t", 0, 10))[0].Error);
        ctx.Log.FailAppendsWith = null;
        Assert.Equal(-1, await ctx.FetchOffsetAsync("g", "t", 0));
    }

    [Fact]
    public async Task LoadInProgressUntilReplayCompletes()
    {
        var log = new InMemoryCoordinatorLog { LoadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var ctx = new CoordinatorTestContext(log: log);
        var loading = ctx.Coordinator.OnElectionAsync(ctx.Coordinator.PartitionFor("g"));
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, (await ctx.JoinAsync("g")).Error);
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, (await ctx.CommitAsync("g", -1, "", "t", 0, 1))[0].Error);
        Assert.Equal(ErrorCode.NotCoordinator, (await ctx.JoinAsync(OtherPartitionGroup(ctx, "g"))).Error);
        log.LoadGate.SetResult();
        await loading.WaitAsync(CoordinatorTestContext.Timeout);
        Assert.Equal(ErrorCode.MemberIdRequired, (await ctx.JoinAsync("g")).Error);
    }

    private static string OtherPartitionGroup(CoordinatorTestContext ctx, string groupId)
    {
        for (int i = 0; ; i++)
            if (ctx.Coordinator.PartitionFor("other" + i) != ctx.Coordinator.PartitionFor(groupId)) return "other" + i;
    }

    [Fact]
    public async Task RestartReplaysOffsetsAndStableGroup()
    {
        var ctx = await CoordinatorTestContext.StartAsync();
        var join = await (await ctx.StartJoinWithIdAsync("replayed"));
        await ctx.SyncAsync("replayed", join.GenerationId, join.MemberId, new[] { (join.MemberId, new byte[] { 9, 9 }) });
        await ctx.CommitAsync("replayed", join.GenerationId, join.MemberId, "orders", 3, 1234);
        await ctx.CommitAsync("replayed", join.GenerationId, join.MemberId, "orders", 3, 1235);
        await ctx.CommitAsync("simple", -1, "", "orders", 0, 7);
        Assert.DoesNotContain(await ctx.Coordinator.DeleteGroupsAsync(new[] { "simple" }), r => r.Error != ErrorCode.None);

        ctx = await ctx.RestartAsync();
        await using var _ = ctx;
        Assert.Equal(1235, await ctx.FetchOffsetAsync("replayed", "orders", 3));
        Assert.Equal(-1, await ctx.FetchOffsetAsync("simple", "orders", 0));
        var described = await ctx.Coordinator.DescribeGroupAsync("replayed");
        Assert.Equal("Stable", described.State);
        Assert.Equal(join.MemberId, described.Members.Single().MemberId);
        Assert.Equal(new byte[] { 9, 9 }, described.Members.Single().Assignment);
        // The loaded member may keep heartbeating with its generation...
        Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("replayed", join.GenerationId, join.MemberId));
        // ...and if it goes silent its session expires.
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(11));
        Assert.Equal(ErrorCode.UnknownMemberId, await ctx.HeartbeatAsync("replayed", join.GenerationId, join.MemberId));
    }

    [Fact]
    public async Task DeleteGroupsRefusesNonEmptyGroups()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var join = await (await ctx.StartJoinWithIdAsync("busy"));
        var results = await ctx.Coordinator.DeleteGroupsAsync(new[] { "busy", "missing" });
        Assert.Equal(ErrorCode.NonEmptyGroup, results.Single(r => r.GroupId == "busy").Error);
        Assert.Equal(ErrorCode.GroupIdNotFound, results.Single(r => r.GroupId == "missing").Error);
        Assert.Equal(ErrorCode.None, join.Error);
    }

    [Fact]
    public async Task OffsetsOfEmptyGroupsExpireAfterRetention()
    {
        var config = new GroupCoordinatorConfig
        {
            OffsetsTopicNumPartitions = 2, GroupInitialRebalanceDelayMs = 0,
            OffsetsRetentionMinutes = 1, OffsetsRetentionCheckIntervalMs = 10_000,
        };
        await using var ctx = await CoordinatorTestContext.StartAsync(config);
        await ctx.CommitAsync("expiring", -1, "", "t", 0, 5);
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, await ctx.FetchOffsetAsync("expiring", "t", 0));
        for (int i = 0; i < 4; i++) await ctx.AdvanceAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(-1, await ctx.FetchOffsetAsync("expiring", "t", 0));
        var listed = await ctx.Coordinator.ListGroupsAsync(null, null);
        Assert.DoesNotContain(listed.Groups, g => g.GroupId == "expiring");
    }

    [Fact]
    public async Task OffsetDeleteRefusesSubscribedTopicsOfActiveGroups()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        // Consumer protocol subscription v0 with topics ["orders"].
        byte[] subscription = { 0, 0, 0, 0, 0, 1, 0, 6, (byte)'o', (byte)'r', (byte)'d', (byte)'e', (byte)'r', (byte)'s', 0, 0, 0, 0 };
        var join = await (await ctx.StartJoinWithIdAsync("od", new List<(string, byte[])> { ("range", subscription) }));
        await ctx.SyncAsync("od", join.GenerationId, join.MemberId);
        await ctx.CommitAsync("od", join.GenerationId, join.MemberId, "orders", 0, 1);
        await ctx.CommitAsync("od", join.GenerationId, join.MemberId, "old", 0, 1);
        var result = await ctx.Coordinator.DeleteOffsetsAsync("od", new[]
        {
            ("orders", (IReadOnlyList<int>)new[] { 0 }), ("old", (IReadOnlyList<int>)new[] { 0 }),
        });
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Equal(ErrorCode.GroupSubscribedToTopic, result.Partitions.Single(p => p.Topic == "orders").Error);
        Assert.Equal(ErrorCode.None, result.Partitions.Single(p => p.Topic == "old").Error);
        Assert.Equal(-1, await ctx.FetchOffsetAsync("od", "old", 0));
        Assert.Equal(1, await ctx.FetchOffsetAsync("od", "orders", 0));
    }

    [Fact]
    public async Task LagIsHighWatermarkMinusCommittedOffset()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.HighWatermarks[("t", 0)] = 100;
        await ctx.CommitAsync("lagging", -1, "", "t", 0, 60);
        var lag = await ctx.Coordinator.GetLagAsync();
        Assert.Equal(40, lag.Single(l => l.GroupId == "lagging").Lag);
    }
}
