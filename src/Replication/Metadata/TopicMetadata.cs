namespace Broker.Replication.Metadata;

/// <summary>
/// One topic as the metadata store knows it (the single-node stand-in for KRaft's TopicRecord +
/// PartitionRecords + ConfigRecords). Immutable: every change makes a new instance.
/// </summary>
/// <param name="Name">Topic name (validated by <see cref="TopicNameValidator"/>).</param>
/// <param name="TopicId">Kafka's topic id (KIP-516), never <see cref="Guid.Empty"/>.</param>
/// <param name="PartitionCount">Number of partitions, &gt;= 1; partitions are 0..PartitionCount-1.</param>
/// <param name="ReplicationFactor">Replicas per partition (1 on a single node).</param>
/// <param name="Configs">Per-topic config overrides by Kafka name (only the ones set explicitly).</param>
/// <param name="IsInternal">__consumer_offsets and __transaction_state.</param>
public sealed record TopicMetadata(
    string Name,
    Guid TopicId,
    int PartitionCount,
    short ReplicationFactor,
    IReadOnlyDictionary<string, string> Configs,
    bool IsInternal)
{
    /// <summary>Kafka's internal topic names (Topic.isInternal).</summary>
    public const string ConsumerOffsetsTopic = "__consumer_offsets";

    public const string TransactionStateTopic = "__transaction_state";

    public static bool IsInternalTopicName(string name) =>
        name == ConsumerOffsetsTopic || name == TransactionStateTopic;
}

/// <summary>Outcome of a store operation: Kafka's error code and message, and the topic after the change.</summary>
public readonly record struct TopicOperationResult(Broker.Protocol.ErrorCode Error, string? ErrorMessage, TopicMetadata? Topic)
{
    public bool Succeeded => Error == Broker.Protocol.ErrorCode.None;

    public static TopicOperationResult Ok(TopicMetadata topic) => new(Broker.Protocol.ErrorCode.None, null, topic);

    public static TopicOperationResult Fail(Broker.Protocol.ErrorCode error, string message) => new(error, message, null);
}

/// <summary>Partitions were added to an existing topic: <paramref name="OldPartitionCount"/>..Topic.PartitionCount-1 are new.</summary>
public readonly record struct PartitionsCreatedEvent(TopicMetadata Topic, int OldPartitionCount);
