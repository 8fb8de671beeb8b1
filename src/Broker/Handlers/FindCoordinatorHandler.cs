// FindCoordinator (API key 10), versions 0-6.
// Group keys map to the leader of __consumer_offsets partition abs(hashCode(groupId)) % N, as
// Kafka does; v4+ (KIP-699) answers a batch of keys. Transaction keys are answered by the
// transaction coordinator's locator when one is registered, else COORDINATOR_NOT_AVAILABLE.
// Share keys (v6, KIP-932) are not supported: INVALID_REQUEST.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Handlers;

public sealed class FindCoordinatorHandler(GroupCoordinator coordinator, ICoordinatorNodeResolver resolver, IServiceProvider services) : IApiHandler
{
    private const sbyte GroupKeyType = 0;
    private const sbyte TransactionKeyType = 1;

    public short ApiKey => FindCoordinatorRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 6;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (FindCoordinatorRequest)request;
        var response = new FindCoordinatorResponse();
        if (context.ApiVersion < 4)
        {
            var (error, message, node) = Find(req.Key, req.KeyType, context.ListenerName);
            response.ErrorCode = (short)error;
            response.ErrorMessage = message;
            response.NodeId = node?.NodeId ?? -1;
            response.Host = node?.Host ?? string.Empty;
            response.Port = node?.Port ?? -1;
        }
        else
        {
            foreach (var key in req.CoordinatorKeys)
            {
                var (error, message, node) = Find(key, req.KeyType, context.ListenerName);
                response.Coordinators.Add(new FindCoordinatorResponse.Coordinator
                {
                    Key = key, ErrorCode = (short)error, ErrorMessage = message,
                    NodeId = node?.NodeId ?? -1, Host = node?.Host ?? string.Empty, Port = node?.Port ?? -1,
                });
            }
        }
        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private (ErrorCode, string?, CoordinatorNode?) Find(string key, sbyte keyType, string listenerName)
    {
        switch (keyType)
        {
            case GroupKeyType:
            {
                var node = resolver.GroupCoordinatorFor(coordinator.PartitionFor(key), listenerName);
                return node is null
                    ? (ErrorCode.CoordinatorNotAvailable, "The coordinator is not available.", null)
                    : (ErrorCode.None, null, node);
            }
            case TransactionKeyType:
            {
                var locator = services.GetService<ITransactionCoordinatorLocator>();
                var node = locator?.TransactionCoordinatorFor(key, listenerName);
                return node is null
                    ? (ErrorCode.CoordinatorNotAvailable, "The transaction coordinator is not available.", null)
                    : (ErrorCode.None, null, node);
            }
            default:
                return (ErrorCode.InvalidRequest, $"Unsupported key type {keyType}.", null);
        }
    }
}
