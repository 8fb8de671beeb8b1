// CreatePartitions (API key 37), versions 0-3.
// Grows a topic to `count` partitions through the metadata store, whose PartitionsCreated event makes
// the ReplicaManager create the new partitions' logs. UNKNOWN_TOPIC_OR_PARTITION for an absent
// topic; INVALID_PARTITIONS when count is not larger than today (Kafka never shrinks); manual
// assignments must name only this node (INVALID_REPLICA_ASSIGNMENT otherwise) and give one entry
// per new partition. A topic listed twice -> INVALID_REQUEST. validate_only changes nothing.
// Differences from Kafka: timeout_ms is ignored (a single node commits at once).
using Broker.Config;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication.Metadata;

namespace Broker.Handlers;

public sealed class CreatePartitionsHandler(TopicMetadataStore store, BrokerConfig config) : IApiHandler
{
    public short ApiKey => CreatePartitionsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 3;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (CreatePartitionsRequest)request;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (CreatePartitionsRequest.CreatePartitionsTopic topic in req.Topics)
        {
            counts[topic.Name] = counts.GetValueOrDefault(topic.Name) + 1;
        }

        var response = new CreatePartitionsResponse();
        foreach (CreatePartitionsRequest.CreatePartitionsTopic topic in req.Topics)
        {
            (ErrorCode error, string? message) = counts[topic.Name] > 1
                ? (ErrorCode.InvalidRequest, "Duplicate topic in request.")
                : Grow(topic, req.ValidateOnly);
            response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult
            {
                Name = topic.Name,
                ErrorCode = (short)error,
                ErrorMessage = error == ErrorCode.None ? null : message,
            });
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private (ErrorCode, string?) Grow(CreatePartitionsRequest.CreatePartitionsTopic topic, bool validateOnly)
    {
        if (topic.Assignments is { } assignments)
        {
            TopicMetadata? current = store.GetTopic(topic.Name);
            if (current is not null && assignments.Count != topic.Count - current.PartitionCount)
            {
                return (ErrorCode.InvalidReplicaAssignment,
                    $"Attempted to add {topic.Count - current.PartitionCount} additional partition(s), but only {assignments.Count} assignment(s) were specified.");
            }

            foreach (CreatePartitionsRequest.CreatePartitionsAssignment assignment in assignments)
            {
                foreach (int brokerId in assignment.BrokerIds)
                {
                    if (brokerId != config.NodeId)
                    {
                        return (ErrorCode.InvalidReplicaAssignment, $"The manual partition assignment includes broker {brokerId}, but no such broker is registered.");
                    }
                }
            }
        }

        TopicOperationResult outcome = store.CreatePartitions(topic.Name, topic.Count, validateOnly);
        return (outcome.Error, outcome.ErrorMessage);
    }
}
