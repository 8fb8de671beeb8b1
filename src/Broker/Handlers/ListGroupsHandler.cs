// ListGroups (API key 16), versions 0-5: every group coordinated by this broker. v4+ (KIP-518)
// filters by state, v5+ (KIP-848) by type ("classic", "consumer"), both case-insensitive.
// COORDINATOR_LOAD_IN_PROGRESS while a shard loads, with the groups known so far.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class ListGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => ListGroupsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (ListGroupsRequest)request;
        var (error, groups) = await coordinator.ListGroupsAsync(
            context.ApiVersion >= 4 ? req.StatesFilter : null,
            context.ApiVersion >= 5 ? req.TypesFilter : null).ConfigureAwait(false);
        var response = new ListGroupsResponse { ErrorCode = (short)error };
        foreach (var g in groups)
            response.Groups.Add(new ListGroupsResponse.ListedGroup
            { GroupId = g.GroupId, ProtocolType = g.ProtocolType, GroupState = g.State, GroupType = g.Type });
        return response;
    }
}
