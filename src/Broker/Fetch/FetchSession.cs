using System.Diagnostics;

namespace Broker.Fetch;

/// <summary>
/// How a fetch names a partition: by topic name before Fetch v13, by topic id from v13 (KIP-516).
/// Exactly one of the two is set, so a session never mixes the two forms.
/// </summary>
public readonly record struct FetchKey(Guid TopicId, string Topic, int Partition)
{
    public static FetchKey ByName(string topic, int partition) => new(Guid.Empty, topic, partition);

    public static FetchKey ById(Guid topicId, int partition) => new(topicId, string.Empty, partition);
}

/// <summary>
/// A partition in an incremental fetch session (Kafka <c>CachedPartition</c>): what the client
/// last asked for, and what the broker last told it, so that an incremental response carries
/// only partitions with news (KIP-227).
/// </summary>
public sealed class CachedPartition(FetchKey key)
{
    public FetchKey Key { get; } = key;

    public long FetchOffset { get; set; }

    public int PartitionMaxBytes { get; set; }

    public int CurrentLeaderEpoch { get; set; } = -1;

    public int LastFetchedEpoch { get; set; } = -1;

    /// <summary>The follower's log start offset (replication); -1 for consumers.</summary>
    public long FetcherLogStartOffset { get; set; } = -1;

    /// <summary>Last high watermark sent; -1 until the first response, so a new partition is always sent once.</summary>
    public long HighWatermark { get; set; } = -1;

    public long LastStableOffset { get; set; } = -1;

    public long LogStartOffset { get; set; } = -1;
}

/// <summary>
/// An incremental fetch session (KIP-227): the partitions a client fetches, kept between its
/// requests so that each request names only what changed and each response only partitions
/// with news. <see cref="Epoch"/> is the epoch the next request must carry.
/// Threads: a client sends one fetch at a time per session; the cache's lock guards
/// <see cref="LastUsedMs"/>, and the session's own lock its partitions.
/// </summary>
public sealed class FetchSession
{
    private readonly Dictionary<FetchKey, CachedPartition> _byKey = new();
    private readonly List<CachedPartition> _ordered = new();

    public FetchSession(int id, bool usesTopicIds, bool isFollower, long nowMs)
    {
        Debug.Assert(id > 0, "session ids are positive");
        Id = id;
        UsesTopicIds = usesTopicIds;
        IsFollower = isFollower;
        CreatedMs = nowMs;
        LastUsedMs = nowMs;
        Epoch = 1;
    }

    public int Id { get; }

    public bool UsesTopicIds { get; }

    public bool IsFollower { get; }

    public long CreatedMs { get; }

    public long LastUsedMs { get; set; }

    /// <summary>The epoch the next incremental request must carry.</summary>
    public int Epoch { get; private set; }

    public object SyncRoot => _ordered;

    public int PartitionCount => _ordered.Count;

    /// <summary>Partitions in fetch order (partitions that returned data move to the end, for fairness).</summary>
    public IReadOnlyList<CachedPartition> Partitions => _ordered;

    /// <summary>Adds a partition or updates its fetch position; returns the cached partition.</summary>
    public CachedPartition AddOrUpdate(FetchKey key, long fetchOffset, int partitionMaxBytes, int currentLeaderEpoch, int lastFetchedEpoch, long fetcherLogStartOffset)
    {
        if (!_byKey.TryGetValue(key, out CachedPartition? cached))
        {
            cached = new CachedPartition(key);
            _byKey.Add(key, cached);
            _ordered.Add(cached);
        }

        cached.FetchOffset = fetchOffset;
        cached.PartitionMaxBytes = partitionMaxBytes;
        cached.CurrentLeaderEpoch = currentLeaderEpoch;
        cached.LastFetchedEpoch = lastFetchedEpoch;
        cached.FetcherLogStartOffset = fetcherLogStartOffset;
        return cached;
    }

    public bool Remove(FetchKey key)
    {
        if (!_byKey.Remove(key, out CachedPartition? cached))
        {
            return false;
        }

        _ordered.Remove(cached);
        return true;
    }

    /// <summary>Moves a partition that returned data behind the others (Kafka's round-robin within a session).</summary>
    public void MoveToEnd(CachedPartition cached)
    {
        int index = _ordered.IndexOf(cached);
        if (index >= 0 && index != _ordered.Count - 1)
        {
            _ordered.RemoveAt(index);
            _ordered.Add(cached);
        }
    }

    /// <summary>Advances to the next epoch after a request was served (wrapping past int.MaxValue to 1, as Kafka).</summary>
    public void NextEpoch() => Epoch = Epoch == int.MaxValue ? 1 : Epoch + 1;
}
