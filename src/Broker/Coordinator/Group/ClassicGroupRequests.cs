namespace Broker.Coordinator.Group;

/// <summary>JoinGroup as the coordinator needs it (the handler maps JoinGroupRequest onto this).</summary>
public sealed record JoinGroupParams(
    string GroupId,
    string MemberId,
    string? GroupInstanceId,
    string ProtocolType,
    List<(string Name, byte[] Metadata)> Protocols,
    int SessionTimeoutMs,
    int RebalanceTimeoutMs,
    string ClientId,
    string ClientHost,
    short ApiVersion,
    string? Reason = null)
{
    /// <summary>KIP-394: from v4 a member joining with an empty id first gets MEMBER_ID_REQUIRED.</summary>
    public bool RequireKnownMemberId => ApiVersion >= 4;
    /// <summary>KIP-814: from v9 a rejoining static leader may be told to skip the assignment.</summary>
    public bool SupportSkippingAssignment => ApiVersion >= 9;
}

public sealed record SyncGroupParams(
    string GroupId,
    int GenerationId,
    string MemberId,
    string? GroupInstanceId,
    string? ProtocolType,
    string? ProtocolName,
    IReadOnlyList<(string MemberId, byte[] Assignment)> Assignments);

public sealed record HeartbeatParams(string GroupId, int GenerationId, string MemberId, string? GroupInstanceId);

public sealed record LeaveGroupMember(string MemberId, string? GroupInstanceId, string? Reason = null);

public sealed record LeaveGroupResult(Broker.Protocol.ErrorCode Error, IReadOnlyList<(string MemberId, string? GroupInstanceId, Broker.Protocol.ErrorCode Error)> Members);
