using Broker.Coordinator.Group;
using Broker.Protocol;

namespace Broker.Tests.Coordinator;

/// <summary>
/// The errors clients recover from: each group API while the coordinator loads, stale
/// generations, unknown and fenced members, wrong protocol types and a group of the other kind.
/// </summary>
public class BadInputTests
{
    private static ConsumerGroupHeartbeatParams JoinParams(string groupId, IReadOnlyList<string> topics) =>
        new(groupId, "", 0, null, null, 20000, topics, null, null, TopicPartitionSet.Empty, "client", "/127.0.0.1", 1);

    [Fact]
    public async Task EveryGroupApiAnswersLoadInProgressUntilTheShardIsLoaded()
    {
        var log = new InMemoryCoordinatorLog { LoadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var ctx = new CoordinatorTestContext(log: log);
        var c = ctx.Coordinator;
        var loading = c.OnElectionAsync(c.PartitionFor("loading"));
        const ErrorCode Loading = ErrorCode.CoordinatorLoadInProgress;

        Assert.Equal(Loading, await ctx.HeartbeatAsync("loading", 1, "m"));
        Assert.Equal(Loading, (await ctx.SyncAsync("loading", 1, "m")).Error);
        Assert.Equal(Loading, (await c.LeaveGroupAsync("loading", new[] { new LeaveGroupMember("m", null) })).Error);
        Assert.Equal(Loading, (await c.FetchOffsetsAsync(new OffsetFetchParams("loading", null, -1, null, false))).Error);
        Assert.Equal(Loading, (await c.DeleteOffsetsAsync("loading", new[] { ("t", (IReadOnlyList<int>)new[] { 0 }) })).Error);
        Assert.Equal(Loading, (await c.DescribeGroupAsync("loading")).Error);
        Assert.Equal(Loading, (await c.ConsumerGroupDescribeAsync("loading")).Error);
        Assert.Equal(Loading, (await c.ConsumerGroupHeartbeatAsync(JoinParams("loading", new[] { "t" }))).Error);
        Assert.Equal(Loading, (await c.DeleteGroupsAsync(new[] { "loading" })).Single().Error);
        Assert.Equal(Loading, (await c.ListGroupsAsync(null, null)).Error);

        log.LoadGate.SetResult();
        await loading.WaitAsync(CoordinatorTestContext.Timeout);
        Assert.Equal(ErrorCode.None, (await c.ListGroupsAsync(null, null)).Error);
        Assert.Equal(ErrorCode.None, (await c.FetchOffsetsAsync(new OffsetFetchParams("loading", null, -1, null, false))).Error);
    }

    [Fact]
    public async Task StaleAndFutureGenerationsGetIllegalGeneration()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var join = await (await ctx.StartJoinWithIdAsync("gen"));
        int generation = join.GenerationId;
        Assert.Equal(ErrorCode.IllegalGeneration, (await ctx.SyncAsync("gen", generation + 1, join.MemberId)).Error);
        var sync = await ctx.SyncAsync("gen", generation, join.MemberId, new[] { (join.MemberId, new byte[] { 1 }) });
        Assert.Equal(ErrorCode.None, sync.Error);

        Assert.Equal(ErrorCode.IllegalGeneration, await ctx.HeartbeatAsync("gen", generation - 1, join.MemberId));
        Assert.Equal(ErrorCode.IllegalGeneration, await ctx.HeartbeatAsync("gen", generation + 1, join.MemberId));
        Assert.Equal(ErrorCode.IllegalGeneration, (await ctx.CommitAsync("gen", generation - 1, join.MemberId, "t", 0, 5))[0].Error);
        Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("gen", generation, join.MemberId));
        Assert.Equal(ErrorCode.None, (await ctx.CommitAsync("gen", generation, join.MemberId, "t", 0, 5))[0].Error);
        Assert.Equal(5, await ctx.FetchOffsetAsync("gen", "t", 0));
    }

    [Fact]
    public async Task UnknownMembersOfAnExistingGroupGetUnknownMemberId()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var join = await (await ctx.StartJoinWithIdAsync("known"));
        await ctx.SyncAsync("known", join.GenerationId, join.MemberId, new[] { (join.MemberId, new byte[] { 1 }) });

        Assert.Equal(ErrorCode.UnknownMemberId, await ctx.HeartbeatAsync("known", join.GenerationId, "stranger"));
        Assert.Equal(ErrorCode.UnknownMemberId, (await ctx.SyncAsync("known", join.GenerationId, "stranger")).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await ctx.JoinAsync("known", "stranger")).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await ctx.CommitAsync("known", join.GenerationId, "stranger", "t", 0, 1))[0].Error);
        var leave = await ctx.Coordinator.LeaveGroupAsync("known", new[] { new LeaveGroupMember("stranger", null), new LeaveGroupMember(join.MemberId, null) });
        Assert.Equal(ErrorCode.None, leave.Error);
        Assert.Equal(ErrorCode.UnknownMemberId, leave.Members.Single(m => m.MemberId == "stranger").Error);
        Assert.Equal(ErrorCode.None, leave.Members.Single(m => m.MemberId == join.MemberId).Error);
    }

    [Fact]
    public async Task AFencedStaticInstanceGetsFencedInstanceIdOnEveryApi()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var old = await ctx.JoinAsync("fenced", instanceId: "i-1");
        await ctx.SyncAsync("fenced", old.GenerationId, old.MemberId, new[] { (old.MemberId, new byte[] { 3 }) }, "i-1");
        var current = await ctx.JoinAsync("fenced", instanceId: "i-1");
        Assert.NotEqual(old.MemberId, current.MemberId);

        Assert.Equal(ErrorCode.FencedInstanceId, (await ctx.SyncAsync("fenced", old.GenerationId, old.MemberId, instanceId: "i-1")).Error);
        Assert.Equal(ErrorCode.FencedInstanceId, (await ctx.JoinAsync("fenced", old.MemberId, instanceId: "i-1")).Error);
        var leave = await ctx.Coordinator.LeaveGroupAsync("fenced", new[] { new LeaveGroupMember(old.MemberId, "i-1") });
        Assert.Equal(ErrorCode.FencedInstanceId, leave.Members.Single().Error);
        // The fenced instance's leave did not remove the current one.
        Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("fenced", current.GenerationId, current.MemberId, "i-1"));
    }

    [Fact]
    public async Task SyncWithAnotherProtocolTypeOrNameIsInconsistent()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var join = await (await ctx.StartJoinWithIdAsync("proto"));
        Assert.Equal("range", join.ProtocolName);
        var wrongType = await ctx.Coordinator.SyncGroupAsync(new SyncGroupParams("proto", join.GenerationId, join.MemberId, null,
            "connect", "range", Array.Empty<(string, byte[])>()), CancellationToken.None).WaitAsync(CoordinatorTestContext.Timeout);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, wrongType.Error);
        var wrongName = await ctx.Coordinator.SyncGroupAsync(new SyncGroupParams("proto", join.GenerationId, join.MemberId, null,
            "consumer", "roundrobin", Array.Empty<(string, byte[])>()), CancellationToken.None).WaitAsync(CoordinatorTestContext.Timeout);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, wrongName.Error);
    }

    [Fact]
    public async Task AGroupOfTheOtherProtocolIsRefusedWhenItsMembersCannotMigrate()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 2);

        // A classic group whose member's embedded protocol is not a consumer subscription cannot
        // be upgraded (Kafka: GROUP_ID_NOT_FOUND, as when group.consumer.migration.policy forbids it).
        var classic = await (await ctx.StartJoinWithIdAsync("mixed-classic"));
        Assert.Equal(ErrorCode.None, classic.Error);
        var refused = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(JoinParams("mixed-classic", new[] { "t" }));
        Assert.Equal(ErrorCode.GroupIdNotFound, refused.Error);

        // A consumer group with a member: a classic JoinGroup whose metadata is not a consumer
        // subscription is refused (a valid one becomes a classic member: OnlineUpgradeTests).
        var member = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(JoinParams("mixed-consumer", new[] { "t" }));
        Assert.Equal(ErrorCode.None, member.Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, (await ctx.JoinAsync("mixed-consumer", "some-id")).Error);

        // Once empty, either kind converts: the classic member leaves, a KIP-848 member takes over.
        await ctx.Coordinator.LeaveGroupAsync("mixed-classic", new[] { new LeaveGroupMember(classic.MemberId, null) });
        var converted = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(JoinParams("mixed-classic", new[] { "t" }));
        Assert.Equal(ErrorCode.None, converted.Error);
        Assert.Equal("consumer", (await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == "mixed-classic").Type);
    }
}
