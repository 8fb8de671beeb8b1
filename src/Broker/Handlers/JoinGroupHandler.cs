// JoinGroup (API key 11), versions 0-9: the classic rebalance protocol's join phase.
// v4+ (KIP-394): a member with an empty id gets MEMBER_ID_REQUIRED and a generated id first.
// v5+ (KIP-345): static membership via GroupInstanceId. v9 (KIP-814): SkipAssignment for a
// rejoining static leader. The response is parked until the group's join phase completes
// (all members rejoined, the rebalance timeout, or group.initial.rebalance.delay.ms for a new group).
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class JoinGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => JoinGroupRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 9;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (JoinGroupRequest)request;
        var protocols = new List<(string, byte[])>(req.Protocols.Count);
        foreach (var p in req.Protocols) protocols.Add((p.Name, p.Metadata));
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        int rebalanceTimeoutMs = context.ApiVersion == 0 || req.RebalanceTimeoutMs < 0 ? req.SessionTimeoutMs : req.RebalanceTimeoutMs;
        var result = await coordinator.JoinGroupAsync(new JoinGroupParams(req.GroupId, req.MemberId, req.GroupInstanceId,
            req.ProtocolType, protocols, req.SessionTimeoutMs, rebalanceTimeoutMs, context.ClientId ?? string.Empty,
            GroupClientHost.From(context.RemoteEndPoint), context.ApiVersion, req.Reason), cancellationToken).ConfigureAwait(false);

        var response = new JoinGroupResponse
        {
            ErrorCode = (short)result.Error,
            GenerationId = result.GenerationId,
            ProtocolType = result.ProtocolType,
            // Before v7 the protocol name is not nullable.
            ProtocolName = result.ProtocolName ?? (context.ApiVersion >= 7 ? null : string.Empty),
            Leader = result.LeaderId,
            SkipAssignment = result.SkipAssignment,
            MemberId = result.MemberId,
        };
        if (result.Members is not null)
            foreach (var (memberId, instanceId, metadata) in result.Members)
                response.Members.Add(new JoinGroupResponse.JoinGroupResponseMember { MemberId = memberId, GroupInstanceId = instanceId, Metadata = metadata });
        return response;
    }
}
