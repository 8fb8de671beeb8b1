using Broker.Protocol;

namespace Broker.Replication.Metadata;

/// <summary>Settings of the metadata store, under Kafka's broker property names.</summary>
public sealed record TopicMetadataStoreOptions
{
    /// <summary>Directory holding the metadata file: the first entry of log.dirs.</summary>
    public required string MetadataDir { get; init; }

    /// <summary>node.id: the one replica of every partition on a single node.</summary>
    public int NodeId { get; init; } = 1;

    /// <summary>num.partitions: partitions of a topic created without a count (-1) or auto-created.</summary>
    public int DefaultNumPartitions { get; init; } = 1;

    /// <summary>default.replication.factor.</summary>
    public short DefaultReplicationFactor { get; init; } = 1;

    /// <summary>Brokers that can hold replicas (1 until the cluster exists).</summary>
    public int AliveBrokerCount { get; init; } = 1;

    /// <summary>
    /// Validates a topic's full set of config overrides (the broker's config catalogue: known names,
    /// value ranges). Returns None or INVALID_CONFIG with a message. Null: only numbers are parsed.
    /// </summary>
    public Func<IReadOnlyDictionary<string, string>, (ErrorCode Error, string? Message)>? ConfigValidator { get; init; }
}
