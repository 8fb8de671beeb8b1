using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

// KIP-848 online upgrade, after Kafka's GroupMetadataManager: a ConsumerGroupHeartbeat joining a
// non-empty classic group converts it into a consumer group whose existing members become
// "classic members" (they keep their assignment and keep talking JoinGroup/SyncGroup/Heartbeat),
// and the consumer group answers those requests from its target assignment.
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
}
