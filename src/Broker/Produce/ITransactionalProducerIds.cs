using Broker.Protocol.Messages;

namespace Broker.Produce;

/// <summary>
/// InitProducerId for a transactional id, answered by the transaction coordinator once it exists
/// (register an implementation in DI). Without one, InitProducerIdHandler answers
/// COORDINATOR_NOT_AVAILABLE for transactional ids.
/// </summary>
public interface ITransactionalProducerIds
{
    ValueTask<InitProducerIdResponse> InitProducerIdAsync(InitProducerIdRequest request, short apiVersion, CancellationToken cancellationToken);
}
