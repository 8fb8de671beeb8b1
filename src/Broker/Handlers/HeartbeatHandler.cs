// Heartbeat (API key 12), versions 0-4: keeps a classic group member's session alive and tells
// it REBALANCE_IN_PROGRESS when it must rejoin. v3+: static members (GroupInstanceId).
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class HeartbeatHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => HeartbeatRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (HeartbeatRequest)request;
        var error = await coordinator.HeartbeatAsync(new HeartbeatParams(req.GroupId, req.GenerationId, req.MemberId, req.GroupInstanceId))
            .ConfigureAwait(false);
        return new HeartbeatResponse { ErrorCode = (short)error };
    }
}
