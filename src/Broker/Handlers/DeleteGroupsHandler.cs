// DeleteGroups (API key 42), versions 0-2: deletes empty groups and all their offsets
// (tombstones in __consumer_offsets). NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND
// for unknown groups.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class DeleteGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => DeleteGroupsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (DeleteGroupsRequest)request;
        var results = await coordinator.DeleteGroupsAsync(req.GroupsNames).ConfigureAwait(false);
        var response = new DeleteGroupsResponse();
        foreach (var (groupId, error) in results)
            response.Results.Add(new DeleteGroupsResponse.DeletableGroupResult { GroupId = groupId, ErrorCode = (short)error });
        return response;
    }
}
