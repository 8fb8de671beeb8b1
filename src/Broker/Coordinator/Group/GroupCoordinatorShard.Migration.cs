using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

// KIP-848 online migration, after Kafka's GroupMetadataManager. Upgrade: a ConsumerGroupHeartbeat
// joining a non-empty classic group converts it into a consumer group whose existing members become
// "classic members" (they keep their assignment and keep talking JoinGroup/SyncGroup/Heartbeat),
// and the consumer group answers those requests from its target assignment. Downgrade: when the
// last consumer-protocol member is removed and classic members remain, the group converts back to
// a classic group and rebalances.
public sealed partial class GroupCoordinatorShard
{
    private const string ConsumerProtocolType = "consumer";

    private static string ClassicJoinTimeoutKey(string groupId, string memberId) => "consumer-join-" + groupId + "-" + memberId;
    private static string ClassicSyncTimeoutKey(string groupId, string memberId) => "consumer-sync-" + groupId + "-" + memberId;

    // ----- upgrade: classic group -> consumer group ------------------------------------------

    /// <summary>
    /// Kafka's validateOnlineUpgrade + ConsumerGroup.fromClassicGroup + createConsumerGroupRecords:
    /// the records that turn <paramref name="classic"/> into a consumer group (appended to
    /// <paramref name="records"/>), and that consumer group as it will be after replay. Refused
    /// (Kafka then answers GROUP_ID_NOT_FOUND) when the policy forbids upgrades, the group does not
    /// use the "consumer" embedded protocol, it is too large, or a member's metadata is malformed.
    /// </summary>
    private bool TryConvertToConsumerGroup(ClassicGroup classic, List<GroupRecord> records, out ConsumerGroup? converted, out string reason)
    {
        converted = null;
        if (!Config.OnlineUpgradeEnabled) { reason = "the online upgrade is disabled"; return false; }
        if (classic.ProtocolTypeOrNull != ConsumerProtocolType) { reason = "the group does not use the consumer embedded protocol"; return false; }
        if (classic.MemberCount > Config.GroupConsumerMaxSize) { reason = "the group is larger than group.consumer.max.size"; return false; }

        string groupId = classic.GroupId;
        int epoch = classic.GenerationId;
        var subscriptions = new List<ConsumerGroupMemberMetadataRecord>();
        var assignments = new List<(string MemberId, TopicPartitionSet Partitions)>();
        var owners = new HashSet<(Guid, int)>();
        foreach (var member in classic.Members)
        {
            byte[]? metadata = classic.ProtocolName is { } protocol ? member.MetadataFor(protocol) : null;
            metadata ??= member.Protocols.Count > 0 ? member.Protocols[0].Metadata : null;
            if (metadata is null || !ConsumerProtocolCodec.TryReadSubscription(metadata, out var subscription)
                || !ConsumerProtocolCodec.TryReadAssignment(member.Assignment, out var assigned))
            {
                reason = $"the embedded consumer protocol of member {member.MemberId} is malformed";
                return false;
            }
            var partitions = ToTopicPartitionSet(assigned);
            foreach (var tp in partitions.All())
                if (!owners.Add(tp)) { reason = $"partition {tp} is assigned to two members"; return false; }
            var topics = new SortedSet<string>(subscription!.Topics, StringComparer.Ordinal).ToArray();
            subscriptions.Add(new ConsumerGroupMemberMetadataRecord(groupId, member.MemberId, new ConsumerMemberSubscription(
                member.GroupInstanceId, subscription.RackId, member.ClientId, member.ClientHost, topics, null,
                member.RebalanceTimeoutMs, null, new ClassicMemberMetadata(member.SessionTimeoutMs, member.Protocols.ToList()))));
            assignments.Add((member.MemberId, partitions));
        }

        // Kafka's order: the classic group's tombstone, subscriptions, group epoch, target
        // assignment, its epoch, then current assignments (all at the classic generation).
        var conversion = new List<GroupRecord> { new ClassicGroupRecord(groupId, null) };
        conversion.AddRange(subscriptions);
        conversion.Add(new ConsumerGroupMetadataRecord(groupId, epoch));
        foreach (var (memberId, partitions) in assignments)
            conversion.Add(new ConsumerGroupTargetAssignmentMemberRecord(groupId, memberId, partitions));
        conversion.Add(new ConsumerGroupTargetAssignmentMetadataRecord(groupId, epoch));
        foreach (var (memberId, partitions) in assignments)
            conversion.Add(new ConsumerGroupCurrentMemberAssignmentRecord(groupId, memberId,
                new ConsumerMemberAssignmentState(epoch, epoch, ConsumerMemberState.Stable, partitions, TopicPartitionSet.Empty)));

        // The heartbeat that triggered the upgrade works on the group as it will be after replay.
        var group = new ConsumerGroup(groupId);
        foreach (var record in conversion)
        {
            switch (record)
            {
                case ConsumerGroupMemberMetadataRecord r: group.ReplayMemberMetadata(r); break;
                case ConsumerGroupMetadataRecord r: group.ReplayGroupMetadata(r.Epoch); break;
                case ConsumerGroupTargetAssignmentMemberRecord r: group.ReplayTargetAssignmentMember(r); break;
                case ConsumerGroupTargetAssignmentMetadataRecord r: group.ReplayTargetAssignmentMetadata(r); break;
                case ConsumerGroupCurrentMemberAssignmentRecord r: group.ReplayCurrentAssignment(r); break;
            }
        }
        records.AddRange(conversion);
        converted = group;
        reason = string.Empty;
        return true;
    }

    /// <summary>
    /// Once the conversion records are written: classic timers stop, parked JoinGroup/SyncGroup
    /// calls get REBALANCE_IN_PROGRESS (their members rejoin, now into the consumer group), and
    /// every converted member gets a consumer-group session timeout of its classic length.
    /// </summary>
    private void CompleteUpgrade(ClassicGroup classic)
    {
        Timer.Cancel(JoinKey(classic.GroupId));
        Timer.Cancel(SyncKey(classic.GroupId));
        foreach (var pending in classic.PendingMembers) Timer.Cancel(HeartbeatKey(classic.GroupId, pending));
        foreach (var member in classic.Members)
        {
            Timer.Cancel(HeartbeatKey(classic.GroupId, member.MemberId));
            member.CompleteJoin(JoinGroupResult.Failed(ErrorCode.RebalanceInProgress, member.MemberId));
            member.CompleteSync(SyncGroupResult.Failed(ErrorCode.RebalanceInProgress));
            ScheduleConsumerSessionTimeout(classic.GroupId, member.MemberId, member.SessionTimeoutMs);
        }
        _logger.LogInformation("Group {Group} upgraded from classic to consumer at epoch {Epoch} with {Members} classic members",
            classic.GroupId, classic.GenerationId, classic.MemberCount);
    }

    private TopicPartitionSet ToTopicPartitionSet(IEnumerable<(string Topic, int Partition)> partitions)
    {
        var ids = new List<(Guid, int)>();
        foreach (var (topic, partition) in partitions)
            if (_metadata.GetTopic(topic) is { } t && partition >= 0 && partition < t.PartitionCount) ids.Add((t.TopicId, partition));
        return TopicPartitionSet.From(ids);
    }

    private byte[] ToClassicAssignment(TopicPartitionSet partitions)
    {
        var topics = new List<(string, IReadOnlyList<int>)>();
        foreach (var (topicId, list) in partitions.Topics)
        {
            if (_metadata.GetTopicName(topicId) is not { } name) continue;
            var sorted = list.ToArray();
            Array.Sort(sorted);
            topics.Add((name, sorted));
        }
        topics.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return ConsumerProtocolCodec.WriteAssignment(topics);
    }

    // ----- downgrade: consumer group -> classic group ----------------------------------------

    /// <summary>Kafka's validateOnlineDowngradeWithFencedMembers: only classic members would remain (at least one).</summary>
    private bool CanDowngradeWithout(ConsumerGroup group, string removedMemberId)
    {
        if (!Config.OnlineDowngradeEnabled) return false;
        int remaining = 0;
        foreach (var m in group.Members.Values)
        {
            if (m.MemberId == removedMemberId) continue;
            if (!m.UsesClassicProtocol) return false;
            remaining++;
        }
        return remaining > 0 && remaining <= Config.GroupMaxSize && CommonClassicProtocol(group, removedMemberId) is not null;
    }

    /// <summary>The first protocol, in the first member's order of preference, that every remaining member supports.</summary>
    private static string? CommonClassicProtocol(ConsumerGroup group, string removedMemberId)
    {
        var remaining = group.Members.Values.Where(m => m.MemberId != removedMemberId).ToList();
        if (remaining.Count == 0) return null;
        foreach (var (name, _) in remaining[0].Classic!.SupportedProtocols)
            if (remaining.All(m => m.Classic!.SupportedProtocols.Any(sp => sp.Name == name))) return name;
        return null;
    }

    /// <summary>
    /// Kafka's convertToClassicGroup: tombstones for the consumer group, then one GroupMetadata
    /// record for the classic group (generation = the group epoch, each member's current
    /// assignment), then a rebalance so the members agree on a new generation.
    /// </summary>
    private async ValueTask<ErrorCode> DowngradeToClassicGroupAsync(ConsumerGroup group, string removedMemberId, string reason)
    {
        string protocol = CommonClassicProtocol(group, removedMemberId)!;
        var classic = new ClassicGroup(group.GroupId, NowMs)
        {
            GenerationId = group.GroupEpoch,
            ProtocolTypeOrNull = ConsumerProtocolType,
            ProtocolName = protocol,
        };
        foreach (var m in group.Members.Values)
        {
            if (m.MemberId == removedMemberId) continue;
            classic.Add(new ClassicGroupMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.InstanceId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                RebalanceTimeoutMs = m.RebalanceTimeoutMs,
                SessionTimeoutMs = m.Classic!.SessionTimeoutMs,
                ProtocolType = ConsumerProtocolType,
                Protocols = m.Classic.SupportedProtocols.ToList(),
                Assignment = ToClassicAssignment(m.AssignedPartitions),
            });
        }
        classic.RestoreState(ClassicGroupState.Stable, NowMs);

        var records = new List<GroupRecord>();
        group.AddDeletionRecords(records);
        records.Add(new ClassicGroupRecord(group.GroupId, classic.ToSnapshot()));
        var memberIds = group.Members.Keys.ToList();
        var error = await AppendAsync(records).ConfigureAwait(false);
        if (error != ErrorCode.None) return error;

        // Replaying the tombstones removed the consumer group; outside a load the classic group's
        // runtime state is not rebuilt from its record, so it is installed here.
        foreach (var id in memberIds) CancelConsumerMemberTimers(group.GroupId, id);
        _groups[group.GroupId] = classic;
        foreach (var member in classic.Members) RescheduleHeartbeat(classic, member, member.SessionTimeoutMs);
        _logger.LogInformation("Group {Group} downgraded from consumer to classic at generation {Generation} ({Reason})",
            group.GroupId, classic.GenerationId, reason);
        PrepareRebalance(classic, $"downgrade from consumer to classic: member {removedMemberId} removed ({reason})");
        return ErrorCode.None;
    }
}
