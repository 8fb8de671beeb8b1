using Broker.Protocol;

namespace Broker.Coordinator.Group;

public sealed record ConsumerGroupHeartbeatParams(
    string GroupId,
    string MemberId,
    int MemberEpoch,
    string? InstanceId,
    string? RackId,
    int RebalanceTimeoutMs,
    IReadOnlyList<string>? SubscribedTopicNames,
    string? SubscribedTopicRegex,
    string? ServerAssignor,
    /// <summary>null = unchanged since the last heartbeat.</summary>
    TopicPartitionSet? OwnedPartitions,
    string ClientId,
    string ClientHost,
    short ApiVersion)
{
    public const int LeaveGroupMemberEpoch = -1;
    public const int LeaveGroupStaticMemberEpoch = -2;
}

public sealed record ConsumerGroupHeartbeatResult(
    ErrorCode Error,
    string? ErrorMessage = null,
    string? MemberId = null,
    int MemberEpoch = 0,
    int HeartbeatIntervalMs = 0,
    /// <summary>null when the member's assignment did not change.</summary>
    TopicPartitionSet? Assignment = null);

public sealed record DescribedConsumerGroupMember(
    string MemberId,
    string? InstanceId,
    string? RackId,
    int MemberEpoch,
    string ClientId,
    string ClientHost,
    IReadOnlyList<string> SubscribedTopicNames,
    string? SubscribedTopicRegex,
    TopicPartitionSet Assignment,
    TopicPartitionSet TargetAssignment);

public sealed record DescribedConsumerGroup(
    ErrorCode Error,
    string? ErrorMessage,
    string GroupId,
    string State,
    int GroupEpoch,
    int AssignmentEpoch,
    string AssignorName,
    IReadOnlyList<DescribedConsumerGroupMember> Members);
