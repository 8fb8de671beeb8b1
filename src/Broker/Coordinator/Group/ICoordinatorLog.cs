namespace Broker.Coordinator.Group;

/// <summary>
/// The __consumer_offsets partitions as the coordinator sees them. Implemented over the
/// replica manager (a committed append completes when the high watermark passes it, as Kafka's
/// CoordinatorRuntime waits before releasing a response); tests use an in-memory log.
/// </summary>
public interface ICoordinatorLog
{
    /// <summary>
    /// Appends the records of one operation as one batch and completes once they are committed.
    /// Throws <see cref="CoordinatorLogException"/> with the Kafka error to report
    /// (NOT_COORDINATOR when this broker lost leadership, ...).
    /// Returns the offset after the last appended record.
    /// </summary>
    ValueTask<long> AppendAsync(int partition, IReadOnlyList<GroupRecord> records, CancellationToken cancellationToken);

    /// <summary>All records of a partition from its log start, in offset order (for loading a shard).</summary>
    IAsyncEnumerable<GroupRecord> ReadAllAsync(int partition, CancellationToken cancellationToken);
}

public sealed class CoordinatorLogException(Broker.Protocol.ErrorCode error, string message) : Exception(message)
{
    public Broker.Protocol.ErrorCode Error { get; } = error;
}

/// <summary>Topic metadata the coordinator needs: KIP-848 assignors work on topic ids and partition counts.</summary>
public interface ITopicMetadataSource
{
    /// <summary>Topic id and partition count of an existing topic, or null.</summary>
    (Guid TopicId, int PartitionCount)? GetTopic(string topicName);

    /// <summary>Name of the topic with this id, or null.</summary>
    string? GetTopicName(Guid topicId);

    /// <summary>All topic names (for regex subscriptions); internal topics included, the caller filters.</summary>
    IReadOnlyCollection<string> GetTopicNames();

    /// <summary>The partition's high watermark, or null when it is not hosted here (for lag).</summary>
    long? GetHighWatermark(string topicName, int partition);

    /// <summary>Bumped on every metadata change, so groups can cheaply notice topic changes.</summary>
    long MetadataVersion { get; }
}
