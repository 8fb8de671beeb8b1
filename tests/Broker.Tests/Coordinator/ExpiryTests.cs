using Broker.Coordinator.Group;
using Broker.Protocol;

namespace Broker.Tests.Coordinator;

/// <summary>
/// offsets.retention.minutes and the expiry of empty groups, on a fake clock: offsets of
/// topics a live group still consumes never expire; everything else expires retention after
/// the group emptied (or after the commit); an empty group with no offsets goes at the next
/// offsets.retention.check.interval.ms check, and the deletion survives a restart.
/// </summary>
public class ExpiryTests
{
    private static GroupCoordinatorConfig Config() => new()
    {
        OffsetsTopicNumPartitions = 2,
        GroupInitialRebalanceDelayMs = 0,
        OffsetsRetentionMinutes = 10,
        OffsetsRetentionCheckIntervalMs = 60_000,
    };

    private static async Task<bool> IsListedAsync(CoordinatorTestContext ctx, string groupId) =>
        (await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Any(g => g.GroupId == groupId);

    [Fact]
    public async Task EmptyClassicGroupWithoutOffsetsIsDeletedAtTheNextCheck()
    {
        var ctx = await CoordinatorTestContext.StartAsync(Config());
        var join = await (await ctx.StartJoinWithIdAsync("left-alone"));
        await ctx.SyncAsync("left-alone", join.GenerationId, join.MemberId, new[] { (join.MemberId, new byte[] { 1 }) });
        await ctx.Coordinator.LeaveGroupAsync("left-alone", new[] { new LeaveGroupMember(join.MemberId, null) });
        await ctx.DrainAsync();
        Assert.Equal("Empty", (await ctx.Coordinator.DescribeGroupAsync("left-alone")).State);

        await ctx.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.False(await IsListedAsync(ctx, "left-alone"));
        Assert.Equal("Dead", (await ctx.Coordinator.DescribeGroupAsync("left-alone")).State);

        ctx = await ctx.RestartAsync();
        await using var _ = ctx;
        Assert.False(await IsListedAsync(ctx, "left-alone"));
    }

    [Fact]
    public async Task EmptyConsumerGroupWithoutOffsetsIsDeletedAtTheNextCheck()
    {
        var ctx = await CoordinatorTestContext.StartAsync(Config());
        ctx.Metadata.AddTopic("t", 2);
        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams("cg-left", "", 0, null, null, 20000,
            new[] { "t" }, null, null, TopicPartitionSet.Empty, "client", "/127.0.0.1", 1));
        Assert.Equal(ErrorCode.None, joined.Error);
        var left = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams("cg-left", joined.MemberId!, -1, null, null, -1,
            null, null, null, null, "client", "/127.0.0.1", 1));
        Assert.Equal(ErrorCode.None, left.Error);
        Assert.True(await IsListedAsync(ctx, "cg-left"));

        await ctx.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.False(await IsListedAsync(ctx, "cg-left"));
        Assert.Equal(ErrorCode.GroupIdNotFound, (await ctx.Coordinator.ConsumerGroupDescribeAsync("cg-left")).Error);

        ctx = await ctx.RestartAsync();
        await using var _ = ctx;
        Assert.False(await IsListedAsync(ctx, "cg-left"));
    }

    [Fact]
    public async Task OffsetsOfALiveGroupExpireOnlyForTopicsItNoLongerConsumes()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync(Config());
        ctx.Metadata.AddTopic("subscribed", 1);
        ctx.Metadata.AddTopic("dropped", 1);
        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams("live", "", 0, null, null, 20000,
            new[] { "subscribed" }, null, null, TopicPartitionSet.Empty, "client", "/127.0.0.1", 1));
        Assert.Equal(ErrorCode.None, joined.Error);
        var commit = await ctx.Coordinator.CommitOffsetsAsync(new OffsetCommitParams("live", joined.MemberEpoch, joined.MemberId!, null, -1, 9,
            new[] { new OffsetCommitPartition("subscribed", 0, 10, -1, null), new OffsetCommitPartition("dropped", 0, 20, -1, null) }));
        Assert.All(commit, r => Assert.Equal(ErrorCode.None, r.Error));

        // Keep the member alive across the retention period (it heartbeats every few seconds).
        int epoch = joined.MemberEpoch;
        for (int minute = 0; minute < 11; minute++)
        {
            for (int beat = 0; beat < 4; beat++)
            {
                var hb = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams("live", joined.MemberId!, epoch, null, null, -1,
                    null, null, null, null, "client", "/127.0.0.1", 1));
                Assert.Equal(ErrorCode.None, hb.Error);
                epoch = hb.MemberEpoch;
                await ctx.AdvanceAsync(TimeSpan.FromSeconds(15));
            }
        }
        Assert.Equal(10, await ctx.FetchOffsetAsync("live", "subscribed", 0));
        Assert.Equal(-1, await ctx.FetchOffsetAsync("live", "dropped", 0));
        Assert.True(await IsListedAsync(ctx, "live"));
    }

    [Fact]
    public async Task OffsetsOfAClassicGroupExpireRetentionAfterItEmptied()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync(Config());
        var join = await (await ctx.StartJoinWithIdAsync("emptied"));
        await ctx.SyncAsync("emptied", join.GenerationId, join.MemberId, new[] { (join.MemberId, new byte[] { 1 }) });
        Assert.Equal(ErrorCode.None, (await ctx.CommitAsync("emptied", join.GenerationId, join.MemberId, "t", 0, 7))[0].Error);

        // The commit is old by the time the group empties: retention counts from the emptying.
        await ctx.Coordinator.HeartbeatAsync(new HeartbeatParams("emptied", join.GenerationId, join.MemberId, null));
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(5));
        for (int i = 0; i < 120; i++)
        {
            Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("emptied", join.GenerationId, join.MemberId));
            await ctx.AdvanceAsync(TimeSpan.FromSeconds(5));
        }
        await ctx.Coordinator.LeaveGroupAsync("emptied", new[] { new LeaveGroupMember(join.MemberId, null) });
        await ctx.DrainAsync();

        await ctx.AdvanceAsync(TimeSpan.FromMinutes(9));
        Assert.Equal(7, await ctx.FetchOffsetAsync("emptied", "t", 0));
        Assert.True(await IsListedAsync(ctx, "emptied"));
        await ctx.AdvanceAsync(TimeSpan.FromMinutes(1));
        await ctx.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(-1, await ctx.FetchOffsetAsync("emptied", "t", 0));
        Assert.False(await IsListedAsync(ctx, "emptied"));
    }
}
