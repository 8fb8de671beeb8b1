using Broker.Coordinator.Group;
using Broker.Protocol;

namespace Broker.Tests.Coordinator;

public class ConsumerGroupMoreTests
{
    private static ConsumerGroupHeartbeatParams Join(string groupId, string memberId, IReadOnlyList<string>? topics, string? regex = null,
        string? instanceId = null) =>
        new(groupId, memberId, 0, instanceId, null, 20000, topics, regex, null, TopicPartitionSet.Empty, "client", "/127.0.0.1", 1);

    private static ConsumerGroupHeartbeatParams Beat(string groupId, string memberId, int epoch, TopicPartitionSet? owned, string? instanceId = null) =>
        new(groupId, memberId, epoch, instanceId, null, -1, null, null, null, owned, "client", "/127.0.0.1", 1);

    [Fact]
    public async Task RegexSubscriptionMatchesWholeTopicNamesAndSkipsInternalTopics()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("orders-eu", 2);
        ctx.Metadata.AddTopic("orders-us", 2);
        ctx.Metadata.AddTopic("xorders-eu", 2);
        ctx.Metadata.AddTopic("__consumer_offsets", 4);
        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("rg", "member-1", null, "orders-.*"));
        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.Equal(4, joined.Assignment!.Count);
        var invalid = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("rg2", "member-2", null, "orders-("));
        Assert.Equal(ErrorCode.InvalidRegularExpression, invalid.Error);
        var missing = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("rg3", "member-3", null));
        Assert.Equal(ErrorCode.InvalidRequest, missing.Error);
    }

    [Fact]
    public async Task StaticMemberRejoiningAfterTemporaryLeaveKeepsItsPartitions()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 4);
        var a = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("sg", "a1", new[] { "t" }, instanceId: "i-a"));
        var b = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("sg", "b1", new[] { "t" }, instanceId: "i-b"));
        var aOwned = a.Assignment!;
        // Let a revoke what b should get, then both settle.
        for (int i = 0; i < 3; i++)
        {
            var ra = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Beat("sg", "a1", a.MemberEpoch, aOwned));
            if (ra.Assignment is not null) aOwned = ra.Assignment;
            a = ra;
            await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Beat("sg", "b1", b.MemberEpoch, null));
        }
        Assert.Equal(2, aOwned.Count);

        // a restarts: leaves with epoch -2, a new process with the same instance id joins.
        var left = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Beat("sg", "a1", -2, null, "i-a"));
        Assert.Equal(-2, left.MemberEpoch);
        var conflicting = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("sg", "b2", new[] { "t" }, instanceId: "i-b"));
        Assert.Equal(ErrorCode.UnreleasedInstanceId, conflicting.Error); // i-b is still active
        var rejoined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("sg", "a2", new[] { "t" }, instanceId: "i-a"));
        Assert.Equal(ErrorCode.None, rejoined.Error);
        Assert.True(aOwned.SetEquals(rejoined.Assignment!));
        var described = await ctx.Coordinator.ConsumerGroupDescribeAsync("sg");
        Assert.Equal(new[] { "a2", "b1" }, described.Members.Select(m => m.MemberId).OrderBy(x => x));
        Assert.Equal(a.MemberEpoch, rejoined.MemberEpoch);
    }

    [Fact]
    public async Task ListGroupsFiltersByStateAndType()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        ctx.Metadata.AddTopic("t", 1);
        await ctx.Coordinator.ConsumerGroupHeartbeatAsync(Join("lg-consumer", "m", new[] { "t" }));
        await ctx.CommitAsync("lg-simple", -1, "", "t", 0, 1);
        var consumers = await ctx.Coordinator.ListGroupsAsync(null, new[] { "consumer" });
        Assert.Equal("lg-consumer", consumers.Groups.Single().GroupId);
        Assert.Equal("consumer", consumers.Groups.Single().ProtocolType);
        var empty = await ctx.Coordinator.ListGroupsAsync(new[] { "EMPTY" }, null);
        Assert.Equal("lg-simple", empty.Groups.Single().GroupId);
        var stable = await ctx.Coordinator.ListGroupsAsync(new[] { "stable" }, new[] { "Consumer" });
        Assert.Equal("lg-consumer", stable.Groups.Single().GroupId);
    }

    [Fact]
    public async Task PendingMemberThatNeverRejoinsIsForgotten()
    {
        await using var ctx = await CoordinatorTestContext.StartAsync();
        var first = await ctx.JoinAsync("pending", sessionTimeoutMs: 6000);
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        await ctx.AdvanceAsync(TimeSpan.FromSeconds(7));
        var late = await ctx.JoinAsync("pending", first.MemberId, sessionTimeoutMs: 6000);
        Assert.Equal(ErrorCode.UnknownMemberId, late.Error);
    }
}
