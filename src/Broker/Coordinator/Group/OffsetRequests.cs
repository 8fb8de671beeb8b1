using Broker.Protocol;

namespace Broker.Coordinator.Group;

public sealed record OffsetCommitParams(
    string GroupId,
    int GenerationIdOrMemberEpoch,
    string MemberId,
    string? GroupInstanceId,
    long RetentionTimeMs,
    short ApiVersion,
    IReadOnlyList<OffsetCommitPartition> Partitions);

public sealed record OffsetCommitPartition(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata);

public sealed record OffsetFetchParams(
    string GroupId,
    string? MemberId,
    int MemberEpoch,
    /// <summary>null = every committed offset of the group.</summary>
    IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)>? Topics,
    bool RequireStable);

public sealed record FetchedOffset(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata, ErrorCode Error);

public sealed record OffsetFetchResult(ErrorCode Error, IReadOnlyList<FetchedOffset> Offsets);

public sealed record ListedGroup(string GroupId, string ProtocolType, string State, string Type);

public sealed record DescribedClassicGroup(
    ErrorCode Error,
    string GroupId,
    string State,
    string ProtocolType,
    string ProtocolData,
    IReadOnlyList<(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment)> Members);

/// <summary>Consumer lag of one partition: committed offset against the high watermark.</summary>
public sealed record GroupPartitionLag(string GroupId, string Topic, int Partition, long CommittedOffset, long HighWatermark)
{
    public long Lag => Math.Max(0, HighWatermark - CommittedOffset);
}
