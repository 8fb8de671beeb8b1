using Broker.Coordinator.Group;

namespace Broker.Benchmarks;

/// <summary>Encodes each operation's batch as ReplicatedCoordinatorLog does, then drops it: coordinator cost without disk.</summary>
internal sealed class EncodeOnlyCoordinatorLog : ICoordinatorLog
{
    private long _nextOffset;

    public ValueTask<long> AppendAsync(int partition, IReadOnlyList<GroupRecord> records, CancellationToken cancellationToken)
    {
        using var batch = CoordinatorRecordCodec.EncodeBatch(records, 0);
        _nextOffset += records.Count;
        return ValueTask.FromResult(_nextOffset);
    }

    public async IAsyncEnumerable<GroupRecord> ReadAllAsync(int partition, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        yield break;
    }
}

/// <summary>A fixed set of topics (name -> id, partition count) that never changes.</summary>
internal sealed class FixedTopicMetadata : ITopicMetadataSource
{
    private readonly Dictionary<string, (Guid, int)> _topics = new(StringComparer.Ordinal);

    public void Add(string name, int partitions) => _topics[name] = (Guid.NewGuid(), partitions);
    public (Guid TopicId, int PartitionCount)? GetTopic(string topicName) => _topics.TryGetValue(topicName, out var t) ? t : null;

    public string? GetTopicName(Guid topicId)
    {
        foreach (var (name, (id, _)) in _topics)
            if (id == topicId) return name;
        return null;
    }

    public IReadOnlyCollection<string> GetTopicNames() => _topics.Keys;
    public long? GetHighWatermark(string topicName, int partition) => null;
    public long MetadataVersion => 1;
}
