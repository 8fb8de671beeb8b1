// DescribeGroups (API key 15), versions 0-5: classic groups. Member metadata, assignments and
// the protocol are returned only while the group is Stable (as Kafka does); an unknown group is
// reported as Dead without error; a KIP-848 group answers GROUP_ID_NOT_FOUND (clients use
// ConsumerGroupDescribe for those). Without ACLs every group operation is authorized.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class DescribeGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    /// <summary>READ(3), DELETE(6) and DESCRIBE(8): the ACL operations a group supports.</summary>
    internal const int GroupAuthorizedOperations = (1 << 3) | (1 << 6) | (1 << 8);

    public short ApiKey => DescribeGroupsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (DescribeGroupsRequest)request;
        var response = new DescribeGroupsResponse();
        foreach (var groupId in req.Groups)
        {
            var g = await coordinator.DescribeGroupAsync(groupId).ConfigureAwait(false);
            var described = new DescribeGroupsResponse.DescribedGroup
            {
                ErrorCode = (short)g.Error, GroupId = g.GroupId, GroupState = g.State, ProtocolType = g.ProtocolType,
                ProtocolData = g.ProtocolData,
                AuthorizedOperations = req.IncludeAuthorizedOperations ? GroupAuthorizedOperations : int.MinValue,
            };
            foreach (var (memberId, instanceId, clientId, clientHost, metadata, assignment) in g.Members)
                described.Members.Add(new DescribeGroupsResponse.DescribedGroupMember
                {
                    MemberId = memberId, GroupInstanceId = instanceId, ClientId = clientId, ClientHost = clientHost,
                    MemberMetadata = metadata, MemberAssignment = assignment,
                });
            response.Groups.Add(described);
        }
        return response;
    }
}
