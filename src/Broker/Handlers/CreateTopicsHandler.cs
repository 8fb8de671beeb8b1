// CreateTopics (API key 19), versions 2-7.
// Per topic: name validated (INVALID_TOPIC_EXCEPTION), TOPIC_ALREADY_EXISTS, num_partitions -1 ->
// num.partitions and replication_factor -1 -> default.replication.factor (KIP-464, v4+), a factor
// above the one live broker -> INVALID_REPLICATION_FACTOR, non-positive counts -> INVALID_PARTITIONS /
// INVALID_REPLICATION_FACTOR, configs checked against the topic config catalogue (INVALID_CONFIG with
// a message). validate_only checks everything and creates nothing. v5+ (KIP-525) returns the
// partition count, replication factor and every effective config; v7+ the topic id (KIP-516).
// A topic listed twice in one request gets INVALID_REQUEST for every occurrence, as in Kafka.
// Differences from Kafka: manual replica assignments are accepted only when they name this node
// and agree with the partition count; timeout_ms is ignored (a single node commits at once).
using System.Diagnostics;
using Broker.Admin;
using Broker.Config;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication.Metadata;

namespace Broker.Handlers;

public sealed class CreateTopicsHandler(TopicMetadataStore store, BrokerConfig config) : IApiHandler
{
    public short ApiKey => CreateTopicsRequest.ApiKey;
    public short MinVersion => 2;
    public short MaxVersion => 7;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (CreateTopicsRequest)request;
        short version = context.ApiVersion;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (CreateTopicsRequest.CreatableTopic topic in req.Topics)
        {
            counts[topic.Name] = counts.GetValueOrDefault(topic.Name) + 1;
        }

        var response = new CreateTopicsResponse();
        foreach (CreateTopicsRequest.CreatableTopic topic in req.Topics)
        {
            var result = new CreateTopicsResponse.CreatableTopicResult { Name = topic.Name, ErrorMessage = null };
            response.Topics.Add(result);
            if (counts[topic.Name] > 1)
            {
                Fail(result, ErrorCode.InvalidRequest, "Duplicate topic name.");
                continue;
            }

            Create(topic, req.ValidateOnly, version, context, result);
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private void Create(CreateTopicsRequest.CreatableTopic topic, bool validateOnly, short version, RequestContext context,
        CreateTopicsResponse.CreatableTopicResult result)
    {
        int numPartitions = topic.NumPartitions;
        short replicationFactor = topic.ReplicationFactor;
        if (topic.Assignments.Count > 0)
        {
            // Kafka requires -1 for both counts when assignments are given.
            if (numPartitions != -1 || replicationFactor != -1)
            {
                Fail(result, ErrorCode.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
                return;
            }

            numPartitions = topic.Assignments.Count;
            replicationFactor = (short)topic.Assignments[0].BrokerIds.Count;
            foreach (CreateTopicsRequest.CreatableReplicaAssignment assignment in topic.Assignments)
            {
                if (assignment.PartitionIndex < 0 || assignment.PartitionIndex >= numPartitions)
                {
                    Fail(result, ErrorCode.InvalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence.");
                    return;
                }

                foreach (int brokerId in assignment.BrokerIds)
                {
                    if (brokerId != config.NodeId)
                    {
                        Fail(result, ErrorCode.InvalidReplicaAssignment, $"The manual partition assignment includes broker {brokerId}, but no such broker is registered.");
                        return;
                    }
                }
            }
        }

        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (CreateTopicsRequest.CreatableTopicConfig c in topic.Configs)
        {
            if (c.Value is null)
            {
                // Kafka: "Null value not supported for topic configs".
                Fail(result, ErrorCode.InvalidConfig, $"Null value not supported for topic configs: {c.Name}");
                return;
            }

            configs[c.Name] = c.Value;
        }

        TopicOperationResult outcome = store.CreateTopic(topic.Name, numPartitions, replicationFactor, configs, validateOnly);
        if (!outcome.Succeeded)
        {
            Fail(result, outcome.Error, outcome.ErrorMessage);
            return;
        }

        TopicMetadata created = outcome.Topic!;
        Debug.Assert(created.PartitionCount > 0, "created topic has partitions");
        result.TopicId = version >= 7 ? created.TopicId : Guid.Empty;
        if (version >= 5)
        {
            result.NumPartitions = created.PartitionCount;
            result.ReplicationFactor = created.ReplicationFactor;
            result.Configs = [];
            foreach (TopicConfigEntry entry in TopicConfigView.Describe(created, config))
            {
                result.Configs.Add(new CreateTopicsResponse.CreatableTopicConfigs
                {
                    Name = entry.Name,
                    Value = entry.Value,
                    ReadOnly = entry.ReadOnly,
                    ConfigSource = (sbyte)entry.Source,
                    IsSensitive = false,
                });
            }
        }
    }

    private static void Fail(CreateTopicsResponse.CreatableTopicResult result, ErrorCode error, string? message)
    {
        result.ErrorCode = (short)error;
        result.ErrorMessage = message;
        result.Configs = null;
        result.TopicConfigErrorCode = 0;
    }
}
