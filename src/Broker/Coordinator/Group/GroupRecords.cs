namespace Broker.Coordinator.Group;

/// <summary>
/// One record of __consumer_offsets in domain form. Each kind maps 1:1 onto a Kafka key/value
/// pair (group-coordinator/*.json); a null value is a tombstone. The key's type id is the
/// version prefix Kafka writes before the key (OffsetCommitKey 1, GroupMetadataKey 2, and
/// ConsumerGroup* 3..8), see <see cref="GroupRecordSerde"/>. The shard's state changes only by
/// replaying these, so loading after a restart is the same code path as normal operation.
/// </summary>
public abstract record GroupRecord(string GroupId);

/// <summary>An offset; Kafka OffsetCommitKey/OffsetCommitValue.</summary>
public sealed record OffsetCommitRecord(string GroupId, string Topic, int Partition, OffsetAndMetadata? Value) : GroupRecord(GroupId);

public sealed record OffsetAndMetadata(long Offset, int LeaderEpoch, string Metadata, long CommitTimestampMs, long ExpireTimestampMs = -1);

/// <summary>A classic group's persisted state; Kafka GroupMetadataKey/GroupMetadataValue.</summary>
public sealed record ClassicGroupRecord(string GroupId, ClassicGroupSnapshot? Value) : GroupRecord(GroupId);

public sealed record ClassicGroupSnapshot(
    string ProtocolType,
    int Generation,
    string? Protocol,
    string? Leader,
    long CurrentStateTimestampMs,
    IReadOnlyList<ClassicMemberSnapshot> Members);

public sealed record ClassicMemberSnapshot(
    string MemberId,
    string? GroupInstanceId,
    string ClientId,
    string ClientHost,
    int RebalanceTimeoutMs,
    int SessionTimeoutMs,
    byte[] Subscription,
    byte[] Assignment);

/// <summary>KIP-848 group epoch; Kafka ConsumerGroupMetadataKey/Value. A tombstone deletes the group.</summary>
public sealed record ConsumerGroupMetadataRecord(string GroupId, int? Epoch) : GroupRecord(GroupId);

/// <summary>KIP-848 member subscription; Kafka ConsumerGroupMemberMetadataKey/Value.</summary>
public sealed record ConsumerGroupMemberMetadataRecord(string GroupId, string MemberId, ConsumerMemberSubscription? Value) : GroupRecord(GroupId);

public sealed record ConsumerMemberSubscription(
    string? InstanceId,
    string? RackId,
    string ClientId,
    string ClientHost,
    IReadOnlyList<string> SubscribedTopicNames,
    string? SubscribedTopicRegex,
    int RebalanceTimeoutMs,
    string? ServerAssignor,
    ClassicMemberMetadata? Classic = null);

/// <summary>
/// Set for a member of a consumer group that still speaks the classic protocol (KIP-848 online
/// migration); Kafka's ConsumerGroupMemberMetadataValue.ClassicMemberMetadata (tagged field 0).
/// </summary>
public sealed record ClassicMemberMetadata(int SessionTimeoutMs, IReadOnlyList<(string Name, byte[] Metadata)> SupportedProtocols)
{
    public bool SameAs(ClassicMemberMetadata? other)
    {
        if (other is null || other.SessionTimeoutMs != SessionTimeoutMs || other.SupportedProtocols.Count != SupportedProtocols.Count) return false;
        for (int i = 0; i < SupportedProtocols.Count; i++)
            if (SupportedProtocols[i].Name != other.SupportedProtocols[i].Name
                || !SupportedProtocols[i].Metadata.AsSpan().SequenceEqual(other.SupportedProtocols[i].Metadata)) return false;
        return true;
    }
}

/// <summary>KIP-848 target assignment epoch; Kafka ConsumerGroupTargetAssignmentMetadataKey/Value.</summary>
public sealed record ConsumerGroupTargetAssignmentMetadataRecord(string GroupId, int? AssignmentEpoch) : GroupRecord(GroupId);

/// <summary>KIP-848 target assignment of one member; Kafka ConsumerGroupTargetAssignmentMemberKey/Value.</summary>
public sealed record ConsumerGroupTargetAssignmentMemberRecord(string GroupId, string MemberId, TopicPartitionSet? Value) : GroupRecord(GroupId);

/// <summary>KIP-848 current assignment of one member; Kafka ConsumerGroupCurrentMemberAssignmentKey/Value.</summary>
public sealed record ConsumerGroupCurrentMemberAssignmentRecord(string GroupId, string MemberId, ConsumerMemberAssignmentState? Value) : GroupRecord(GroupId);

public sealed record ConsumerMemberAssignmentState(
    int MemberEpoch,
    int PreviousMemberEpoch,
    ConsumerMemberState State,
    TopicPartitionSet AssignedPartitions,
    TopicPartitionSet PartitionsPendingRevocation);

/// <summary>Kafka's MemberState values as stored in ConsumerGroupCurrentMemberAssignmentValue.State.</summary>
public enum ConsumerMemberState : sbyte
{
    UnrevokedPartitions = 0,
    UnreleasedPartitions = 1,
    Stable = 2,
    Unknown = 127,
}

/// <summary>
/// KIP-848 subscription metadata (ConsumerGroupPartitionMetadataKey/Value). Kafka 4.1 stopped
/// writing it; we read and ignore it so logs written by Kafka 4.0 load.
/// </summary>
public sealed record ConsumerGroupPartitionMetadataRecord(string GroupId, bool IsTombstone) : GroupRecord(GroupId);
