// DeleteTopics (API key 20), versions 1-6.
// v1-5 name topics; v6 (KIP-516) names each topic either by name or by topic id. Absent names ->
// UNKNOWN_TOPIC_OR_PARTITION, absent ids -> UNKNOWN_TOPIC_ID; a state with both a name and a
// non-zero id, or neither, -> INVALID_REQUEST. The metadata store's TopicDeleted event makes the
// ReplicaManager drop the partitions and delete the logs.
// Differences from Kafka: version 0 is not offered (Kafka 4.0 dropped it, KIP-896); timeout_ms is
// ignored as a single node commits the deletion at once; there is no delete.topic.enable switch
// (Kafka 4 always allows deletion by default).
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication.Metadata;

namespace Broker.Handlers;

public sealed class DeleteTopicsHandler(TopicMetadataStore store) : IApiHandler
{
    public short ApiKey => DeleteTopicsRequest.ApiKey;
    public short MinVersion => 1;
    public short MaxVersion => 6;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (DeleteTopicsRequest)request;
        var response = new DeleteTopicsResponse();
        if (context.ApiVersion >= 6)
        {
            foreach (DeleteTopicsRequest.DeleteTopicState state in req.Topics)
            {
                var result = new DeleteTopicsResponse.DeletableTopicResult { Name = state.Name, TopicId = state.TopicId };
                response.Responses.Add(result);
                bool hasId = state.TopicId != Guid.Empty;
                if (hasId == (state.Name is not null))
                {
                    result.ErrorCode = (short)ErrorCode.InvalidRequest;
                    result.ErrorMessage = "Exactly one of topic name and topic id must be given.";
                    continue;
                }

                TopicOperationResult outcome = hasId ? store.DeleteTopic(state.TopicId) : store.DeleteTopic(state.Name!);
                Apply(result, outcome);
            }
        }
        else
        {
            foreach (string name in req.TopicNames)
            {
                var result = new DeleteTopicsResponse.DeletableTopicResult { Name = name };
                response.Responses.Add(result);
                Apply(result, store.DeleteTopic(name));
            }
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private static void Apply(DeleteTopicsResponse.DeletableTopicResult result, TopicOperationResult outcome)
    {
        result.ErrorCode = (short)outcome.Error;
        result.ErrorMessage = outcome.Succeeded ? null : outcome.ErrorMessage;
        if (outcome.Topic is { } deleted)
        {
            // Kafka fills in whichever of name/id the client did not send.
            result.Name = deleted.Name;
            result.TopicId = deleted.TopicId;
        }
    }
}
