// SyncGroup (API key 14), versions 0-5: the leader hands in the assignment of a generation and
// every member receives its part once it is stored in __consumer_offsets. v3+: static members
// (GroupInstanceId); v5+: ProtocolType/ProtocolName are checked against the group's
// (INCONSISTENT_GROUP_PROTOCOL), as Kafka does.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class SyncGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => SyncGroupRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (SyncGroupRequest)request;
        var assignments = new List<(string, byte[])>(req.Assignments.Count);
        foreach (var a in req.Assignments) assignments.Add((a.MemberId, a.Assignment));
        var result = await coordinator.SyncGroupAsync(new SyncGroupParams(req.GroupId, req.GenerationId, req.MemberId,
            req.GroupInstanceId, req.ProtocolType, req.ProtocolName, assignments), cancellationToken).ConfigureAwait(false);
        return new SyncGroupResponse
        {
            ErrorCode = (short)result.Error,
            ProtocolType = result.ProtocolType,
            ProtocolName = result.ProtocolName,
            Assignment = result.Assignment ?? Array.Empty<byte>(),
        };
    }
}
