// Metadata (API key 3), versions 0-12.
// Brokers: this node with its advertised endpoint for the listener the request came in on (and
// broker.rack). Controller: this node (a single node is its own KRaft quorum). Cluster id from
// ClusterIdentity. Topics: all (v0: empty list; v1+: null list) or the named ones; v10+ may name
// topics by id (KIP-516, UNKNOWN_TOPIC_ID when unknown) and the response carries topic ids.
// Partitions: leader = this node, its leader epoch (v7+, KIP-320), replicas = ISR = {this node}.
// Unknown topics are created when auto.create.topics.enable and allow_auto_topic_creation (v4+;
// always allowed below v4) with num.partitions and default.replication.factor; invalid names get
// INVALID_TOPIC_EXCEPTION, unknown ones UNKNOWN_TOPIC_OR_PARTITION. Authorized operations
// (v8+, KIP-430) are reported as everything, since there is no authorizer yet.
// Differences from Kafka: an auto-created topic is answered with its partitions at once, without
// the LEADER_NOT_AVAILABLE round Kafka's asynchronous creation needs; internal topics are never
// auto-created here (the coordinators create them at startup).
using Broker.Config;
using Broker.Network;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Storage;

namespace Broker.Handlers;

public sealed class MetadataHandler(ReplicaManager replicaManager, BrokerConfig config, ClusterIdentity cluster, BrokerEndpoints endpoints) : IApiHandler
{
    // AclOperation codes (Kafka's AclOperation): READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7,
    // DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12,
    // CREATE_TOKENS 13, DESCRIBE_TOKENS 14.
    private const int AllTopicOperations = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
    private const int AllClusterOperations = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14);

    public short ApiKey => MetadataRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 12;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (MetadataRequest)request;
        short version = context.ApiVersion;
        int nodeId = replicaManager.LocalBrokerId;
        var response = new MetadataResponse
        {
            ClusterId = version >= 2 ? cluster.ClusterId : null,
            ControllerId = version >= 1 ? nodeId : -1,
        };
        (string host, int port) = endpoints.For(context.ListenerName) ?? FirstEndpoint();
        response.Brokers.Add(new MetadataResponse.MetadataResponseBroker
        {
            NodeId = nodeId,
            Host = host,
            Port = port,
            Rack = version >= 1 ? config.GetString("broker.rack") : null,
        });
        if (version is >= 8 and <= 10 && req.IncludeClusterAuthorizedOperations)
        {
            response.ClusterAuthorizedOperations = AllClusterOperations;
        }

        bool includeTopicOperations = version >= 8 && req.IncludeTopicAuthorizedOperations;
        bool allTopics = req.Topics is null || (version == 0 && req.Topics.Count == 0);
        if (allTopics)
        {
            var topics = new List<TopicMetadata>(replicaManager.Metadata.Topics);
            topics.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (TopicMetadata topic in topics)
            {
                response.Topics.Add(Describe(topic, version, includeTopicOperations));
            }

            return ValueTask.FromResult<IApiMessage?>(response);
        }

        bool autoCreate = config.GetBool("auto.create.topics.enable") && (version < 4 || req.AllowAutoTopicCreation);
        foreach (MetadataRequest.MetadataRequestTopic requested in req.Topics!)
        {
            response.Topics.Add(Lookup(requested, version, autoCreate, includeTopicOperations));
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private MetadataResponse.MetadataResponseTopic Lookup(MetadataRequest.MetadataRequestTopic requested, short version, bool autoCreate, bool includeTopicOperations)
    {
        TopicMetadataStore store = replicaManager.Metadata;
        if (requested.Name is null)
        {
            if (version >= 10 && requested.TopicId != Guid.Empty && store.GetTopic(requested.TopicId) is { } byId)
            {
                return Describe(byId, version, includeTopicOperations);
            }

            return ErrorTopic(null, requested.TopicId, version >= 10 && requested.TopicId != Guid.Empty ? ErrorCode.UnknownTopicId : ErrorCode.InvalidRequest);
        }

        string name = requested.Name;
        if (store.GetTopic(name) is { } topic)
        {
            return Describe(topic, version, includeTopicOperations);
        }

        if (!TopicNameValidator.IsValid(name))
        {
            return ErrorTopic(name, Guid.Empty, ErrorCode.InvalidTopicException);
        }

        if (!autoCreate || TopicMetadata.IsInternalTopicName(name))
        {
            return ErrorTopic(name, Guid.Empty, ErrorCode.UnknownTopicOrPartition);
        }

        TopicOperationResult created = store.CreateTopic(name, -1, -1);
        if (created.Succeeded || created.Error == ErrorCode.TopicAlreadyExists)
        {
            // A concurrent Metadata request may have created it first.
            return store.GetTopic(name) is { } now ? Describe(now, version, includeTopicOperations) : ErrorTopic(name, Guid.Empty, ErrorCode.LeaderNotAvailable);
        }

        return ErrorTopic(name, Guid.Empty, created.Error);
    }

    private MetadataResponse.MetadataResponseTopic Describe(TopicMetadata topic, short version, bool includeTopicOperations)
    {
        var result = new MetadataResponse.MetadataResponseTopic
        {
            Name = topic.Name,
            TopicId = version >= 10 ? topic.TopicId : Guid.Empty,
            IsInternal = version >= 1 && topic.IsInternal,
        };
        if (includeTopicOperations)
        {
            result.TopicAuthorizedOperations = AllTopicOperations;
        }

        result.Partitions.EnsureCapacity(topic.PartitionCount);
        for (int p = 0; p < topic.PartitionCount; p++)
        {
            Partition? partition = replicaManager.GetPartition(new TopicPartition(topic.Name, p));
            var data = new MetadataResponse.MetadataResponsePartition { PartitionIndex = p };
            if (partition is null)
            {
                // Not hosted: its log is offline (or still being created). Kafka reports no leader.
                data.ErrorCode = (short)ErrorCode.LeaderNotAvailable;
                data.LeaderId = -1;
                data.ReplicaNodes.Add(replicaManager.LocalBrokerId);
                if (version >= 5)
                {
                    data.OfflineReplicas.Add(replicaManager.LocalBrokerId);
                }
            }
            else
            {
                data.LeaderId = partition.LeaderId;
                data.LeaderEpoch = version >= 7 ? partition.LeaderEpoch : -1;
                data.ReplicaNodes.AddRange(partition.Replicas);
                data.IsrNodes.AddRange(partition.Isr);
            }

            result.Partitions.Add(data);
        }

        return result;
    }

    private static MetadataResponse.MetadataResponseTopic ErrorTopic(string? name, Guid topicId, ErrorCode error) => new()
    {
        ErrorCode = (short)error,
        Name = name,
        TopicId = topicId,
    };

    private (string Host, int Port) FirstEndpoint()
    {
        IReadOnlyList<ListenerEndpoint> all = endpoints.Advertised;
        return all.Count > 0 ? (all[0].Host, all[0].Port) : ("localhost", 9092);
    }
}
