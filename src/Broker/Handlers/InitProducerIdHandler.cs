// InitProducerId (API key 22), versions 0-5.
// Idempotent producers (no transactional id) get a producer id that was never handed out before
// (blocks reserved durably in the metadata store) with epoch 0. A producer that sends its
// current id and epoch (v3+, KIP-360) gets the same id with the epoch bumped, so it can reset its
// sequences after an UNKNOWN_PRODUCER_ID or OUT_OF_ORDER_SEQUENCE_NUMBER without losing its id;
// when the epoch would overflow it gets a new id.
// Transactional ids are the transaction coordinator's: when one is registered
// (ITransactionalProducerIds) the request is passed to it, otherwise COORDINATOR_NOT_AVAILABLE.
// Differences from Kafka: Kafka answers an idempotent producer's bump request with a fresh id
// (it keeps no state for non-transactional producers); we bump the epoch of an id we allocated
// (INVALID_PRODUCER_ID_MAPPING for ids we never allocated). Neither fences anything without a
// transactional id.
using Broker.Produce;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Handlers;

public sealed class InitProducerIdHandler(ProducerIdManager producerIds, IServiceProvider services) : IApiHandler
{
    public short ApiKey => InitProducerIdRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (InitProducerIdRequest)request;
        if (req.TransactionalId is { Length: 0 })
        {
            return Error(ErrorCode.InvalidRequest); // Kafka: an empty transactional id is invalid, null means none
        }

        if (req.TransactionalId is not null)
        {
            if (services.GetService<ITransactionalProducerIds>() is { } transactions)
            {
                return await transactions.InitProducerIdAsync(req, context.ApiVersion, cancellationToken).ConfigureAwait(false);
            }

            return Error(ErrorCode.CoordinatorNotAvailable);
        }

        if (req.ProducerId >= 0 || req.ProducerEpoch >= 0)
        {
            if (req.ProducerId < 0 || req.ProducerEpoch < 0)
            {
                return Error(ErrorCode.InvalidRequest); // both or neither (Kafka InitProducerIdRequest)
            }

            if (!producerIds.WasAllocated(req.ProducerId))
            {
                return Error(ErrorCode.InvalidProducerIdMapping);
            }

            if (req.ProducerEpoch < short.MaxValue - 1)
            {
                return new InitProducerIdResponse { ProducerId = req.ProducerId, ProducerEpoch = (short)(req.ProducerEpoch + 1) };
            }
        }

        return new InitProducerIdResponse { ProducerId = producerIds.GenerateProducerId(), ProducerEpoch = 0 };
    }

    private static InitProducerIdResponse Error(ErrorCode error) => new() { ErrorCode = (short)error, ProducerId = -1, ProducerEpoch = -1 };
}
