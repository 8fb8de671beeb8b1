// LeaveGroup (API key 13), versions 0-5. v0-2 remove one member and report its error at the top
// level; v3+ (KIP-345) remove a batch of members, by member id or by static instance id, with
// per-member errors. The group rebalances without them.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class LeaveGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => LeaveGroupRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (LeaveGroupRequest)request;
        var members = new List<LeaveGroupMember>();
        if (context.ApiVersion < 3) members.Add(new LeaveGroupMember(req.MemberId, null));
        else foreach (var m in req.Members) members.Add(new LeaveGroupMember(m.MemberId, m.GroupInstanceId, m.Reason));

        var result = await coordinator.LeaveGroupAsync(req.GroupId, members).ConfigureAwait(false);
        var response = new LeaveGroupResponse { ErrorCode = (short)result.Error };
        if (context.ApiVersion < 3)
        {
            if (result.Error == ErrorCode.None && result.Members.Count == 1) response.ErrorCode = (short)result.Members[0].Error;
        }
        else
        {
            foreach (var (memberId, instanceId, error) in result.Members)
                response.Members.Add(new LeaveGroupResponse.MemberResponse { MemberId = memberId, GroupInstanceId = instanceId, ErrorCode = (short)error });
        }
        return response;
    }
}
