using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

// Classic-protocol members of a consumer group (KIP-848 online migration), after Kafka's
// classicGroup*ToConsumerGroup paths: JoinGroup runs the consumer group's own update (subscription,
// group epoch, target assignment, reconciliation) and answers at once with the member epoch as the
// generation; SyncGroup hands back the reconciled assignment; Heartbeat says REBALANCE_IN_PROGRESS
// when the member must rejoin to move towards its target. There is no leader: the coordinator's
// assignor decides, so the JoinGroup response lists no members.
public sealed partial class GroupCoordinatorShard
{
    private async ValueTask<JoinGroupResult> ClassicJoinToConsumerGroupAsync(ConsumerGroup group, JoinGroupParams p)
    {
        if (p.ProtocolType != ConsumerProtocolType || p.Protocols.Count == 0 || !SupportsClassicProtocols(group, p.Protocols))
            return JoinGroupResult.Failed(ErrorCode.InconsistentGroupProtocol, p.MemberId);
        bool isUnknownMember = p.MemberId.Length == 0;
        string memberId = isUnknownMember ? NewConsumerMemberId() : p.MemberId;
        if (!group.Members.ContainsKey(memberId) && group.Members.Count >= Config.GroupConsumerMaxSize)
            return JoinGroupResult.Failed(ErrorCode.GroupMaxSizeReached, memberId);
        // KIP-394 as in a classic group, but the id is not remembered: the member is created when it comes back.
        if (isUnknownMember && p.GroupInstanceId is null && p.RequireKnownMemberId)
            return JoinGroupResult.Failed(ErrorCode.MemberIdRequired, memberId);
        // Kafka fails such a join with an internal error; INCONSISTENT_GROUP_PROTOCOL tells the client why.
        if (!ConsumerProtocolCodec.TryReadSubscription(p.Protocols[0].Metadata, out var subscription))
            return JoinGroupResult.Failed(ErrorCode.InconsistentGroupProtocol, memberId);

        var member = group.Members.GetValueOrDefault(memberId);
        ConsumerGroupMember? replacedStatic = null;
        if (p.GroupInstanceId is not null && group.StaticMemberId(p.GroupInstanceId) is { } staticId && staticId != memberId)
        {
            // A restarted static member (new id) takes over the old one's assignment, as in a classic group.
            if (!isUnknownMember) return JoinGroupResult.Failed(ErrorCode.FencedInstanceId, memberId);
            replacedStatic = group.Members[staticId];
        }
        if (member is not null && !member.UsesClassicProtocol) return JoinGroupResult.Failed(ErrorCode.UnknownMemberId, memberId);

        var records = new List<GroupRecord>();
        var current = member ?? new ConsumerGroupMember(memberId);
        if (replacedStatic is not null)
        {
            current.MemberEpoch = replacedStatic.MemberEpoch;
            current.PreviousMemberEpoch = replacedStatic.PreviousMemberEpoch;
            current.State = replacedStatic.State;
            current.AssignedPartitions = replacedStatic.AssignedPartitions;
            current.PartitionsPendingRevocation = replacedStatic.PartitionsPendingRevocation;
            current.SubscribedTopicNames = replacedStatic.SubscribedTopicNames;
            current.RackId = replacedStatic.RackId;
            AddMemberRemovalRecords(group, replacedStatic.MemberId, records);
            if (group.TargetAssignment.GetValueOrDefault(replacedStatic.MemberId) is { } oldTarget)
                records.Add(new ConsumerGroupTargetAssignmentMemberRecord(p.GroupId, memberId, oldTarget));
        }

        var topics = new SortedSet<string>(subscription!.Topics, StringComparer.Ordinal).ToArray();
        var updated = new ConsumerMemberSubscription(p.GroupInstanceId ?? current.InstanceId, subscription.RackId ?? current.RackId,
            p.ClientId, p.ClientHost, topics, null, p.RebalanceTimeoutMs != -1 ? p.RebalanceTimeoutMs : current.RebalanceTimeoutMs, null,
            new ClassicMemberMetadata(p.SessionTimeoutMs, p.Protocols.ToList()));
        // An eager (v0) subscription cannot list owned partitions: such a member revoked all of them before rejoining.
        var owned = ToTopicPartitionSet(subscription.OwnedPartitions ?? (IReadOnlyList<(string, int)>)Array.Empty<(string, int)>());
        string fingerprint = UpdateMemberAndReconcile(group, memberId, current, member is null && replacedStatic is null, replacedStatic,
            updated, owned, records);

        var error = await AppendAsync(records).ConfigureAwait(false);
        if (error != ErrorCode.None) return JoinGroupResult.Failed(error, memberId);
        if (FindGroup(p.GroupId) is not ConsumerGroup replayed || !replayed.Members.TryGetValue(memberId, out var result))
            return JoinGroupResult.Failed(ErrorCode.UnknownServerError, memberId);
        replayed.SubscriptionFingerprint = fingerprint;
        if (replacedStatic is not null) CancelConsumerMemberTimers(p.GroupId, replacedStatic.MemberId);
        Timer.Cancel(ClassicJoinTimeoutKey(p.GroupId, memberId));
        ScheduleConsumerSessionTimeout(p.GroupId, memberId, p.SessionTimeoutMs);
        ScheduleClassicSyncTimeout(p.GroupId, memberId, result.RebalanceTimeoutMs);
        return new JoinGroupResult(ErrorCode.None, result.MemberEpoch, ConsumerProtocolType, p.Protocols[0].Name, string.Empty, memberId,
            Members: Array.Empty<(string, string?, byte[])>());
    }

    /// <summary>Kafka's supportsClassicProtocols: one of the joiner's protocols is supported by every classic member.</summary>
    private static bool SupportsClassicProtocols(ConsumerGroup group, List<(string Name, byte[] Metadata)> protocols)
    {
        foreach (var (name, _) in protocols)
        {
            bool all = true;
            foreach (var m in group.Members.Values)
                if (m.Classic is { } classic && !classic.SupportedProtocols.Any(sp => sp.Name == name)) { all = false; break; }
            if (all) return true;
        }
        return false;
    }

    /// <summary>Kafka's validateConsumerGroupMember + throwIfMemberDoesNotUseClassicProtocol + generation check.</summary>
    private static ErrorCode ValidateClassicMember(ConsumerGroup group, string memberId, string? instanceId, int generationId,
        out ConsumerGroupMember? member)
    {
        member = null;
        if (instanceId is not null)
        {
            string? staticId = group.StaticMemberId(instanceId);
            if (staticId is null) return ErrorCode.UnknownMemberId;
            if (staticId != memberId) return ErrorCode.FencedInstanceId;
        }
        if (!group.Members.TryGetValue(memberId, out member) || !member.UsesClassicProtocol) return ErrorCode.UnknownMemberId;
        if (generationId != member.MemberEpoch) return ErrorCode.IllegalGeneration;
        return ErrorCode.None;
    }

    private SyncGroupResult ClassicSyncToConsumerGroup(ConsumerGroup group, SyncGroupParams p)
    {
        var error = ValidateClassicMember(group, p.MemberId, p.GroupInstanceId, p.GenerationId, out var member);
        if (error != ErrorCode.None) return SyncGroupResult.Failed(error);
        var protocols = member!.Classic!.SupportedProtocols;
        if (p.ProtocolType is not null && p.ProtocolType != ConsumerProtocolType
            || p.ProtocolName is not null && !protocols.Any(sp => sp.Name == p.ProtocolName))
            return SyncGroupResult.Failed(ErrorCode.InconsistentGroupProtocol);
        Timer.Cancel(ClassicSyncTimeoutKey(p.GroupId, p.MemberId));
        ScheduleConsumerSessionTimeout(p.GroupId, p.MemberId, member.Classic.SessionTimeoutMs);
        // The leader's assignments, if any, are ignored: the coordinator's target assignment rules.
        return new SyncGroupResult(ErrorCode.None, ConsumerProtocolType, p.ProtocolName ?? protocols[0].Name,
            ToClassicAssignment(member.AssignedPartitions));
    }

    private ErrorCode ClassicHeartbeatToConsumerGroup(ConsumerGroup group, HeartbeatParams p)
    {
        var error = ValidateClassicMember(group, p.MemberId, p.GroupInstanceId, p.GenerationId, out var member);
        if (error != ErrorCode.None) return error;
        ScheduleConsumerSessionTimeout(p.GroupId, p.MemberId, member!.Classic!.SessionTimeoutMs);
        // Rejoin when the group epoch moved on, when partitions must be revoked, or when the
        // partitions it waits for have been released.
        bool mustRejoin = member.MemberEpoch < group.GroupEpoch
            || member.State == ConsumerMemberState.UnrevokedPartitions
            || member.State == ConsumerMemberState.UnreleasedPartitions && !WaitsOnUnreleasedPartition(group, member);
        if (!mustRejoin) return ErrorCode.None;
        if (!Timer.IsScheduled(ClassicJoinTimeoutKey(p.GroupId, p.MemberId)))
            ScheduleClassicJoinTimeout(p.GroupId, p.MemberId, member.RebalanceTimeoutMs);
        return ErrorCode.RebalanceInProgress;
    }

    private static bool WaitsOnUnreleasedPartition(ConsumerGroup group, ConsumerGroupMember member)
    {
        var target = group.TargetAssignment.GetValueOrDefault(member.MemberId) ?? TopicPartitionSet.Empty;
        foreach (var (topicId, partition) in target.Except(member.AssignedPartitions).All())
            if (group.OwnerOf(topicId, partition) is { } owner && owner != member.MemberId) return true;
        return false;
    }

    private async ValueTask<LeaveGroupResult> ClassicLeaveConsumerGroupAsync(string groupId, IReadOnlyList<LeaveGroupMember> leaving)
    {
        var results = new List<(string, string?, ErrorCode)>(leaving.Count);
        for (int i = 0; i < leaving.Count; i++)
        {
            if (FindGroup(groupId) is not ConsumerGroup group)
            {
                // A removal downgraded the group: the rest leave the classic group.
                var rest = await ClassicLeaveAsync(groupId, leaving.Skip(i).ToList()).ConfigureAwait(false);
                results.AddRange(rest.Members);
                break;
            }
            var l = leaving[i];
            string? memberId = l.MemberId;
            ErrorCode error = ErrorCode.None;
            if (l.GroupInstanceId is not null)
            {
                memberId = group.StaticMemberId(l.GroupInstanceId);
                if (memberId is null) error = ErrorCode.UnknownMemberId;
                else if (l.MemberId.Length > 0 && l.MemberId != memberId) error = ErrorCode.FencedInstanceId;
            }
            else if (!group.Members.ContainsKey(l.MemberId)) error = ErrorCode.UnknownMemberId;
            if (error == ErrorCode.None)
                error = await FenceConsumerMemberAsync(group, memberId!, "member left the group: " + (l.Reason ?? "no reason")).ConfigureAwait(false);
            results.Add((l.MemberId, l.GroupInstanceId, error));
        }
        return new LeaveGroupResult(ErrorCode.None, results);
    }

    private void CancelConsumerMemberTimers(string groupId, string memberId)
    {
        Timer.Cancel(ConsumerSessionKey(groupId, memberId));
        Timer.Cancel(ConsumerRebalanceKey(groupId, memberId));
        Timer.Cancel(ClassicJoinTimeoutKey(groupId, memberId));
        Timer.Cancel(ClassicSyncTimeoutKey(groupId, memberId));
    }

    /// <summary>Told to rejoin, the member must send JoinGroup within its rebalance timeout or be removed.</summary>
    private void ScheduleClassicJoinTimeout(string groupId, string memberId, int rebalanceTimeoutMs) =>
        Timer.Schedule(ClassicJoinTimeoutKey(groupId, memberId), Math.Max(rebalanceTimeoutMs, 1), async () =>
        {
            if (FindGroup(groupId) is ConsumerGroup group && group.Members.TryGetValue(memberId, out var m) && m.UsesClassicProtocol)
                await FenceConsumerMemberAsync(group, memberId, "the classic member did not rejoin within the rebalance timeout").ConfigureAwait(false);
        });

    /// <summary>After JoinGroup, the member must send SyncGroup within its rebalance timeout or be removed.</summary>
    private void ScheduleClassicSyncTimeout(string groupId, string memberId, int rebalanceTimeoutMs) =>
        Timer.Schedule(ClassicSyncTimeoutKey(groupId, memberId), Math.Max(rebalanceTimeoutMs, 1), async () =>
        {
            if (FindGroup(groupId) is ConsumerGroup group && group.Members.TryGetValue(memberId, out var m) && m.UsesClassicProtocol)
                await FenceConsumerMemberAsync(group, memberId, "the classic member did not sync within the rebalance timeout").ConfigureAwait(false);
        });
}
