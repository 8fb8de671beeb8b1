using System.Buffers.Binary;
using System.Text;
using Broker.Coordinator.Group;
using Broker.Protocol;

namespace Broker.Tests.Coordinator;

/// <summary>
/// KIP-848 online upgrade: a consumer-protocol member joining a non-empty classic group converts
/// it, and the remaining classic members keep working through JoinGroup/SyncGroup/Heartbeat.
/// </summary>
public class OnlineUpgradeTests
{
    private const string Topic = "t";

    /// <summary>ConsumerProtocolSubscription v1 (topics, null user data, owned partitions) or v0 when owned is null.</summary>
    internal static byte[] Subscription(string[] topics, (string Topic, int[] Partitions)[]? owned = null)
    {
        var bytes = new List<byte>();
        void I16(int v) { var b = new byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, (short)v); bytes.AddRange(b); }
        void I32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); bytes.AddRange(b); }
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); I16(b.Length); bytes.AddRange(b); }
        I16(owned is null ? 0 : 1);
        I32(topics.Length);
        foreach (var t in topics) Str(t);
        I32(-1);
        if (owned is not null)
        {
            I32(owned.Length);
            foreach (var (t, ps) in owned) { Str(t); I32(ps.Length); foreach (var p in ps) I32(p); }
        }
        return bytes.ToArray();
    }

    internal static byte[] Assignment(params int[] partitions) =>
        ConsumerProtocolCodec.WriteAssignment(new[] { (Topic, (IReadOnlyList<int>)partitions) });

    private static int[] Partitions(byte[] assignment)
    {
        Assert.True(ConsumerProtocolCodec.TryReadAssignment(assignment, out var read));
        return read.Where(tp => tp.Topic == Topic).Select(tp => tp.Partition).OrderBy(p => p).ToArray();
    }

    private static List<(string, byte[])> Protocols(byte[] subscription) => new() { ("range", subscription) };

    private static ConsumerGroupHeartbeatParams ConsumerJoin(string groupId) =>
        new(groupId, string.Empty, 0, null, null, 30000, new[] { Topic }, null, null, TopicPartitionSet.Empty, "new", "/127.0.0.1", 1);

    private static ConsumerGroupHeartbeatParams ConsumerBeat(string groupId, string memberId, int epoch, TopicPartitionSet owned) =>
        new(groupId, memberId, epoch, null, null, -1, null, null, null, owned, "new", "/127.0.0.1", 1);

    /// <summary>Two classic members, stable at generation 1: A owns 0-1, B owns 2-3.</summary>
    private static async Task<(JoinGroupResult A, JoinGroupResult B)> StableClassicGroupAsync(CoordinatorTestContext ctx, string groupId,
        string protocolType = "consumer", int rebalanceTimeoutMs = 30000)
    {
        var first = await ctx.JoinAsync(groupId, protocolType: protocolType, protocols: Protocols(Subscription(new[] { Topic })));
        var second = await ctx.JoinAsync(groupId, protocolType: protocolType, protocols: Protocols(Subscription(new[] { Topic })));
        var joinA = ctx.JoinAsync(groupId, first.MemberId, protocolType: protocolType, protocols: Protocols(Subscription(new[] { Topic })),
            rebalanceTimeoutMs: rebalanceTimeoutMs);
        var joinB = ctx.JoinAsync(groupId, second.MemberId, protocolType: protocolType, protocols: Protocols(Subscription(new[] { Topic })),
            rebalanceTimeoutMs: rebalanceTimeoutMs);
        await ctx.DrainAsync();
        await ctx.AdvanceAsync(TimeSpan.FromMilliseconds(10));
        var a = await joinA.WaitAsync(CoordinatorTestContext.Timeout);
        var b = await joinB.WaitAsync(CoordinatorTestContext.Timeout);
        Assert.Equal(ErrorCode.None, a.Error);
        var leader = a.LeaderId == a.MemberId ? a : b;
        var syncOther = ctx.SyncAsync(groupId, 1, (leader == a ? b : a).MemberId);
        var sync = await ctx.SyncAsync(groupId, 1, leader.MemberId, new[] { (a.MemberId, Assignment(0, 1)), (b.MemberId, Assignment(2, 3)) });
        Assert.Equal(ErrorCode.None, sync.Error);
        Assert.Equal(ErrorCode.None, (await syncOther).Error);
        Assert.Equal("Stable", (await ctx.Coordinator.DescribeGroupAsync(groupId)).State);
        return (a, b);
    }

    private static async Task<CoordinatorTestContext> StartAsync(string policy = "bidirectional")
    {
        var ctx = await CoordinatorTestContext.StartAsync(new GroupCoordinatorConfig
        { OffsetsTopicNumPartitions = 4, GroupInitialRebalanceDelayMs = 0, GroupConsumerMigrationPolicy = policy });
        ctx.Metadata.AddTopic(Topic, 4);
        return ctx;
    }

    [Fact]
    public async Task AConsumerMemberUpgradesAClassicGroupAndClassicMembersKeepTheirPartitions()
    {
        await using var ctx = await StartAsync();
        var (a, b) = await StableClassicGroupAsync(ctx, "up1");

        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up1"));
        Assert.Equal(ErrorCode.None, joined.Error);
        // The group epoch starts at the classic generation; the joiner bumps it.
        Assert.Equal(2, joined.MemberEpoch);
        Assert.Equal("consumer", (await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == "up1").Type);
        var described = await ctx.Coordinator.ConsumerGroupDescribeAsync("up1");
        Assert.Equal(3, described.Members.Count);
        var classicA = described.Members.Single(m => m.MemberId == a.MemberId);
        Assert.Equal(1, classicA.MemberEpoch);
        Assert.Equal(new[] { 0, 1 }, classicA.Assignment.All().Select(tp => tp.Partition).OrderBy(p => p));
        // Everything is still owned by the classic members, so the joiner waits for a release.
        Assert.True(joined.Assignment!.IsEmpty);

        // The classic members are told to rejoin, and still own their partitions meanwhile.
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync("up1", 1, a.MemberId));
        Assert.Equal(ErrorCode.IllegalGeneration, await ctx.HeartbeatAsync("up1", 7, a.MemberId));
        Assert.Equal(ErrorCode.UnknownMemberId, await ctx.HeartbeatAsync("up1", 1, "nobody"));
    }

    [Fact]
    public async Task ClassicMembersRejoinAndEveryPartitionEndsOwnedExactlyOnce()
    {
        await using var ctx = await StartAsync();
        var (a, b) = await StableClassicGroupAsync(ctx, "up2");
        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up2"));
        string newId = joined.MemberId!;
        int newEpoch = joined.MemberEpoch;
        var newOwned = joined.Assignment!;

        var owned = new Dictionary<string, int[]> { [a.MemberId] = new[] { 0, 1 }, [b.MemberId] = new[] { 2, 3 } };
        var generations = new Dictionary<string, int> { [a.MemberId] = 1, [b.MemberId] = 1 };
        for (int round = 0; round < 6; round++)
        {
            foreach (var id in new[] { a.MemberId, b.MemberId })
            {
                if (await ctx.HeartbeatAsync("up2", generations[id], id) != ErrorCode.RebalanceInProgress) continue;
                // A cooperative member rejoins listing what it still owns (v1 subscription).
                var rejoin = await ctx.JoinAsync("up2", id,
                    protocols: Protocols(Subscription(new[] { Topic }, new[] { (Topic, owned[id]) })));
                Assert.Equal(ErrorCode.None, rejoin.Error);
                Assert.Equal("", rejoin.LeaderId);
                Assert.Empty(rejoin.Members!);
                var sync = await ctx.SyncAsync("up2", rejoin.GenerationId, id);
                Assert.Equal(ErrorCode.None, sync.Error);
                Assert.Equal("range", sync.ProtocolName);
                owned[id] = Partitions(sync.Assignment!);
                generations[id] = rejoin.GenerationId;
            }
            var beat = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerBeat("up2", newId, newEpoch, newOwned));
            Assert.Equal(ErrorCode.None, beat.Error);
            newEpoch = beat.MemberEpoch;
            if (beat.Assignment is not null) newOwned = beat.Assignment;
        }

        var all = owned.Values.SelectMany(p => p).Concat(newOwned.All().Select(tp => tp.Partition)).OrderBy(p => p).ToArray();
        Assert.Equal(new[] { 0, 1, 2, 3 }, all); // each partition exactly once
        Assert.False(newOwned.IsEmpty);
        Assert.Equal("Stable", (await ctx.Coordinator.ConsumerGroupDescribeAsync("up2")).State);
        Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("up2", generations[a.MemberId], a.MemberId));
    }

    [Fact]
    public async Task AnEagerRejoinWithoutOwnedPartitionsMovesStraightToTheTargetEpoch()
    {
        await using var ctx = await StartAsync();
        var (a, _) = await StableClassicGroupAsync(ctx, "up-eager");
        await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up-eager"));
        // v0 subscription: an eager member revoked everything before rejoining.
        var rejoin = await ctx.JoinAsync("up-eager", a.MemberId, protocols: Protocols(Subscription(new[] { Topic })));
        Assert.Equal(ErrorCode.None, rejoin.Error);
        Assert.Equal(2, rejoin.GenerationId);
        var sync = await ctx.SyncAsync("up-eager", 2, a.MemberId);
        Assert.NotEmpty(Partitions(sync.Assignment!));
        Assert.Equal(ErrorCode.IllegalGeneration, (await ctx.SyncAsync("up-eager", 1, a.MemberId)).Error);
    }

    [Fact]
    public async Task TheUpgradeIsWrittenAsRecordsAndSurvivesARestart()
    {
        var ctx = await StartAsync();
        var (a, _) = await StableClassicGroupAsync(ctx, "up3");
        Assert.Equal(ErrorCode.None, (await ctx.CommitAsync("up3", 1, a.MemberId, Topic, 0, 42))[0].Error);
        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up3"));
        Assert.Equal(ErrorCode.None, joined.Error);
        var before = await ctx.Coordinator.ConsumerGroupDescribeAsync("up3");

        await using var restarted = await ctx.RestartAsync();
        var after = await restarted.Coordinator.ConsumerGroupDescribeAsync("up3");
        Assert.Equal(ErrorCode.None, after.Error);
        Assert.Equal(before.GroupEpoch, after.GroupEpoch);
        Assert.Equal(before.AssignmentEpoch, after.AssignmentEpoch);
        Assert.Equal(before.Members.Select(m => (m.MemberId, m.MemberEpoch, m.Assignment.Count)).OrderBy(x => x.MemberId),
            after.Members.Select(m => (m.MemberId, m.MemberEpoch, m.Assignment.Count)).OrderBy(x => x.MemberId));
        Assert.Equal(42, await restarted.FetchOffsetAsync("up3", Topic, 0));
        // The classic metadata came back too: A still answers as a classic member.
        Assert.Equal(ErrorCode.RebalanceInProgress, await restarted.HeartbeatAsync("up3", 1, a.MemberId));
        // A classic member commits with its generation (its member epoch).
        Assert.Equal(ErrorCode.None, (await restarted.CommitAsync("up3", 1, a.MemberId, Topic, 0, 43, version: 9))[0].Error);
        Assert.Equal(ErrorCode.IllegalGeneration, (await restarted.CommitAsync("up3", 5, a.MemberId, Topic, 0, 44, version: 9))[0].Error);
    }

    [Theory]
    [InlineData("disabled")]
    [InlineData("downgrade")]
    public async Task APolicyWithoutUpgradeRefusesWithGroupIdNotFound(string policy)
    {
        await using var ctx = await StartAsync(policy);
        var (a, _) = await StableClassicGroupAsync(ctx, "up4");
        Assert.Equal(ErrorCode.GroupIdNotFound, (await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up4"))).Error);
        Assert.Equal("classic", (await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == "up4").Type);
        Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("up4", 1, a.MemberId));
    }

    [Fact]
    public async Task AGroupNotUsingTheConsumerProtocolIsNotUpgraded()
    {
        await using var ctx = await StartAsync();
        await StableClassicGroupAsync(ctx, "up5", protocolType: "connect");
        Assert.Equal(ErrorCode.GroupIdNotFound, (await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up5"))).Error);
    }

    [Fact]
    public async Task AClassicMemberThatDoesNotRejoinWithinItsRebalanceTimeoutIsRemoved()
    {
        await using var ctx = await StartAsync();
        var (a, b) = await StableClassicGroupAsync(ctx, "up6", rebalanceTimeoutMs: 3000);
        await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up6"));
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync("up6", 1, a.MemberId));
        await ctx.AdvanceAsync(TimeSpan.FromMilliseconds(2000));
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync("up6", 1, b.MemberId));
        await ctx.AdvanceAsync(TimeSpan.FromMilliseconds(1100));
        var members = (await ctx.Coordinator.ConsumerGroupDescribeAsync("up6")).Members.Select(m => m.MemberId).ToList();
        Assert.DoesNotContain(a.MemberId, members);
        Assert.Contains(b.MemberId, members);
        Assert.Equal(ErrorCode.UnknownMemberId, await ctx.HeartbeatAsync("up6", 1, a.MemberId));
    }

    [Fact]
    public async Task AClassicMemberWhoseSessionExpiresIsRemovedAndALeavingOneToo()
    {
        await using var ctx = await StartAsync();
        var (a, b) = await StableClassicGroupAsync(ctx, "up7");
        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up7"));
        int epoch = (await ctx.Coordinator.ConsumerGroupDescribeAsync("up7")).GroupEpoch;

        var left = await ctx.Coordinator.LeaveGroupAsync("up7", new[] { new LeaveGroupMember(b.MemberId, null) });
        Assert.Equal(ErrorCode.None, left.Members.Single().Error);
        var afterLeave = await ctx.Coordinator.ConsumerGroupDescribeAsync("up7");
        Assert.Equal(epoch + 1, afterLeave.GroupEpoch);
        Assert.DoesNotContain(afterLeave.Members, m => m.MemberId == b.MemberId);

        // A's session (10 s, from its JoinGroup) runs out while the consumer member keeps beating.
        for (int i = 0; i < 3; i++)
        {
            await ctx.AdvanceAsync(TimeSpan.FromSeconds(4));
            var beat = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerBeat("up7", joined.MemberId!, joined.MemberEpoch, TopicPartitionSet.Empty));
            Assert.NotEqual(ErrorCode.UnknownMemberId, beat.Error);
        }
        var members = (await ctx.Coordinator.ConsumerGroupDescribeAsync("up7")).Members;
        Assert.Equal(new[] { joined.MemberId }, members.Select(m => m.MemberId));
    }

    [Fact]
    public async Task ANewClassicMemberJoinsAConsumerGroupTheKip394Way()
    {
        await using var ctx = await StartAsync();
        var consumer = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up8"));
        Assert.Equal(ErrorCode.None, consumer.Error);

        var first = await ctx.JoinAsync("up8", protocols: Protocols(Subscription(new[] { Topic })));
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        var joined = await ctx.JoinAsync("up8", first.MemberId, protocols: Protocols(Subscription(new[] { Topic })));
        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.Equal("consumer", joined.ProtocolType);
        var described = await ctx.Coordinator.ConsumerGroupDescribeAsync("up8");
        Assert.Equal(2, described.Members.Count);
        Assert.Equal(described.GroupEpoch, described.AssignmentEpoch);

        // The wrong protocol type, or no protocol in common with the classic members, is refused.
        Assert.Equal(ErrorCode.InconsistentGroupProtocol,
            (await ctx.JoinAsync("up8", protocolType: "connect", protocols: Protocols(Subscription(new[] { Topic })))).Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol,
            (await ctx.JoinAsync("up8", protocols: new() { ("roundrobin", Subscription(new[] { Topic })) })).Error);
        // The consumer member cannot use the classic protocol under its id.
        Assert.Equal(ErrorCode.UnknownMemberId,
            (await ctx.JoinAsync("up8", consumer.MemberId!, protocols: Protocols(Subscription(new[] { Topic })))).Error);
    }

    [Fact]
    public async Task ParkedClassicJoinsAreAnsweredWithRebalanceInProgress()
    {
        await using var ctx = await StartAsync();
        var (a, _) = await StableClassicGroupAsync(ctx, "up9");
        // The leader rejoins (starting a classic rebalance) and is parked waiting for the other member.
        var parked = ctx.Coordinator.JoinGroupAsync(new JoinGroupParams("up9", a.LeaderId, null, "consumer",
            Protocols(Subscription(new[] { Topic })), 10000, 30000, "client", "/127.0.0.1", 9), CancellationToken.None);
        await ctx.DrainAsync();
        Assert.False(parked.IsCompleted);
        Assert.Equal(ErrorCode.None, (await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin("up9"))).Error);
        Assert.Equal(ErrorCode.RebalanceInProgress, (await parked.WaitAsync(CoordinatorTestContext.Timeout)).Error);
    }

    [Fact]
    public void ClassicMemberMetadataRoundTripsThroughTheRecordFormat()
    {
        var record = new ConsumerGroupMemberMetadataRecord("g", "m", new ConsumerMemberSubscription(null, null, "c", "/h", new[] { "t" }, null,
            30000, null, new ClassicMemberMetadata(10000, new List<(string, byte[])> { ("range", new byte[] { 1, 2 }), ("sticky", new byte[] { 3 }) })));
        var (key, value) = GroupRecordSerde.Serialize(record);
        var decoded = Assert.IsType<ConsumerGroupMemberMetadataRecord>(GroupRecordSerde.Deserialize(key, value));
        var classic = decoded.Value!.Classic!;
        Assert.Equal(10000, classic.SessionTimeoutMs);
        Assert.True(classic.SameAs(record.Value!.Classic));
        // Without the tagged field a member is a consumer-protocol member.
        var plain = record with { Value = record.Value with { Classic = null } };
        var (k2, v2) = GroupRecordSerde.Serialize(plain);
        Assert.Null(Assert.IsType<ConsumerGroupMemberMetadataRecord>(GroupRecordSerde.Deserialize(k2, v2)).Value!.Classic);
    }

    /// <summary>Upgrade, then rejoin both classic members until every one is reconciled at the group epoch.</summary>
    private static async Task<(string A, string B, string Consumer, int Epoch)> UpgradedAndReconciledAsync(CoordinatorTestContext ctx, string groupId)
    {
        var (a, b) = await StableClassicGroupAsync(ctx, groupId);
        var joined = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerJoin(groupId));
        foreach (var id in new[] { a.MemberId, b.MemberId })
        {
            var rejoin = await ctx.JoinAsync(groupId, id, protocols: Protocols(Subscription(new[] { Topic })));
            Assert.Equal(ErrorCode.None, (await ctx.SyncAsync(groupId, rejoin.GenerationId, id)).Error);
        }
        int epoch = (await ctx.Coordinator.ConsumerGroupDescribeAsync(groupId)).GroupEpoch;
        return (a.MemberId, b.MemberId, joined.MemberId!, epoch);
    }

    [Fact]
    public async Task WhenTheLastConsumerMemberLeavesOnlyClassicMembersRemainAndTheGroupTurnsClassic()
    {
        var ctx = await StartAsync();
        var (a, b, consumer, epoch) = await UpgradedAndReconciledAsync(ctx, "down1");
        Assert.Equal(ErrorCode.None, (await ctx.CommitAsync("down1", epoch, a, Topic, 1, 7))[0].Error);

        var left = await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerBeat("down1", consumer, -1, TopicPartitionSet.Empty));
        Assert.Equal(ErrorCode.None, left.Error);
        Assert.Equal(-1, left.MemberEpoch);
        Assert.Equal("classic", (await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == "down1").Type);
        var described = await ctx.Coordinator.DescribeGroupAsync("down1");
        Assert.Equal("PreparingRebalance", described.State);
        Assert.Equal(2, described.Members.Count);
        Assert.Equal(ErrorCode.GroupIdNotFound, (await ctx.Coordinator.ConsumerGroupDescribeAsync("down1")).Error);

        // The members are told to rejoin (their generation is the group epoch) and form a new generation.
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync("down1", epoch, a));
        var joinA = ctx.JoinAsync("down1", a, protocols: Protocols(Subscription(new[] { Topic })));
        var joinB = ctx.JoinAsync("down1", b, protocols: Protocols(Subscription(new[] { Topic })));
        var ja = await joinA;
        var jb = await joinB;
        Assert.Equal(ErrorCode.None, ja.Error);
        Assert.Equal(epoch + 1, ja.GenerationId);
        var leader = ja.LeaderId == a ? ja : jb;
        Assert.Equal(2, leader.Members!.Count);
        var followerSync = ctx.SyncAsync("down1", epoch + 1, leader == ja ? b : a);
        await ctx.SyncAsync("down1", epoch + 1, leader.MemberId, new[] { (a, Assignment(0, 1)), (b, Assignment(2, 3)) });
        Assert.Equal(ErrorCode.None, (await followerSync).Error);
        Assert.Equal("Stable", (await ctx.Coordinator.DescribeGroupAsync("down1")).State);
        Assert.Equal(7, await ctx.FetchOffsetAsync("down1", Topic, 1));

        // Replay after a restart gives the classic group back.
        await using var restarted = await ctx.RestartAsync();
        var reloaded = await restarted.Coordinator.DescribeGroupAsync("down1");
        Assert.Equal("Stable", reloaded.State);
        Assert.Equal(2, reloaded.Members.Count);
        Assert.Equal(ErrorCode.None, await restarted.HeartbeatAsync("down1", epoch + 1, a));
    }

    [Fact]
    public async Task AnUpgradeOnlyPolicyKeepsAConsumerGroupOfClassicMembers()
    {
        await using var ctx = await StartAsync("upgrade");
        var (a, _, consumer, epoch) = await UpgradedAndReconciledAsync(ctx, "down2");
        Assert.Equal(ErrorCode.None, (await ctx.Coordinator.ConsumerGroupHeartbeatAsync(ConsumerBeat("down2", consumer, -1, TopicPartitionSet.Empty))).Error);
        Assert.Equal("consumer", (await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == "down2").Type);
        Assert.Equal(2, (await ctx.Coordinator.ConsumerGroupDescribeAsync("down2")).Members.Count);
        // The epoch moved on without the consumer member, so the classic members rejoin within the consumer group.
        Assert.Equal(ErrorCode.RebalanceInProgress, await ctx.HeartbeatAsync("down2", epoch, a));
    }

    [Fact]
    public async Task TheConsumerMembersSessionTimeoutAlsoDowngrades()
    {
        await using var ctx = await StartAsync();
        var (a, b, _, epoch) = await UpgradedAndReconciledAsync(ctx, "down3");
        // The classic members keep beating (10 s sessions); the consumer member (45 s) goes silent.
        for (int i = 0; i < 12; i++)
        {
            await ctx.AdvanceAsync(TimeSpan.FromSeconds(4));
            if ((await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == "down3").Type == "classic") break;
            Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("down3", epoch, a));
            Assert.Equal(ErrorCode.None, await ctx.HeartbeatAsync("down3", epoch, b));
        }
        Assert.Equal("classic", (await ctx.Coordinator.ListGroupsAsync(null, null)).Groups.Single(g => g.GroupId == "down3").Type);
        Assert.Equal(2, (await ctx.Coordinator.DescribeGroupAsync("down3")).Members.Count);
    }

    [Fact]
    public async Task ALeaveGroupOfSeveralMembersFinishesOnTheDowngradedGroup()
    {
        await using var ctx = await StartAsync();
        var (a, b, consumer, _) = await UpgradedAndReconciledAsync(ctx, "down4");
        // The consumer member is removed first (downgrade), then A leaves the classic group.
        var left = await ctx.Coordinator.LeaveGroupAsync("down4", new[] { new LeaveGroupMember(consumer, null), new LeaveGroupMember(a, null) });
        Assert.All(left.Members, m => Assert.Equal(ErrorCode.None, m.Error));
        var described = await ctx.Coordinator.DescribeGroupAsync("down4");
        Assert.Equal(new[] { b }, described.Members.Select(m => m.MemberId));
    }
}
