using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Replication.Purgatory;
using Broker.Storage;

namespace Broker.Fetch;

/// <summary>
/// Reads the partitions of one fetch into response entries (Kafka ReplicaManager.readFromLog):
/// whole batches from each partition's log up to its bound (high watermark for consumers, last
/// stable offset for read_committed, log end offset for followers), each partition limited by its
/// partition_max_bytes and the response by max_bytes, except that the first batch of the first
/// partition with data is returned whole even when larger, so a consumer never gets stuck behind
/// a big batch (KIP-74). Records are file regions (zero copy). Also decides, for the purgatory,
/// whether a waiting fetch can answer (<see cref="IDelayedFetchCondition"/>).
/// </summary>
internal sealed class FetchPartitionReader(ReplicaManager replicaManager, IReadOnlyList<CachedPartition> entries, bool isFollower, bool readCommitted, int minBytes)
    : IDelayedFetchCondition
{
    private readonly Partition?[] _partitions = new Partition?[entries.Count];
    private readonly int[] _epochs = new int[entries.Count];

    public IReadOnlyList<CachedPartition> Entries => entries;

    /// <summary>
    /// Reads every entry. Returns the bytes read; <paramref name="anyError"/> tells whether some
    /// partition answered an error (a fetch then answers at once, as Kafka).
    /// </summary>
    public int ReadAll(FetchResponse.PartitionData[] results, int responseMaxBytes, out bool anyError)
    {
        anyError = false;
        int remaining = responseMaxBytes;
        int total = 0;
        bool minOneBatch = true;
        for (int i = 0; i < entries.Count; i++)
        {
            CachedPartition entry = entries[i];
            var data = new FetchResponse.PartitionData
            {
                PartitionIndex = entry.Key.Partition,
                HighWatermark = -1,
                LastStableOffset = -1,
                LogStartOffset = -1,
                Records = MemoryRecords.Empty,
                AbortedTransactions = readCommitted ? new List<FetchResponse.AbortedTransaction>() : null,
            };
            results[i] = data;
            ErrorCode error = Resolve(i, out Partition? partition);
            if (error == ErrorCode.None)
            {
                error = ReadPartition(partition!, entry, data, Math.Max(0, Math.Min(entry.PartitionMaxBytes, remaining)), minOneBatch);
            }

            if (error != ErrorCode.None)
            {
                data.ErrorCode = (short)error;
                anyError = true;
                if (error is ErrorCode.FencedLeaderEpoch && partition is not null)
                {
                    data.CurrentLeader = new FetchResponse.LeaderIdAndEpoch { LeaderId = partition.LeaderId, LeaderEpoch = partition.LeaderEpoch };
                }

                continue;
            }

            int size = data.Records?.SizeInBytes ?? 0;
            if (size > 0)
            {
                remaining -= size;
                total += size;
                minOneBatch = false;
            }
        }

        return total;
    }

    /// <summary>Watch keys for the purgatory: the partitions that resolved during the last read.</summary>
    public TopicPartition[] WatchKeys()
    {
        var keys = new List<TopicPartition>(entries.Count);
        foreach (Partition? partition in _partitions)
        {
            if (partition is not null)
            {
                keys.Add(partition.TopicPartition);
            }
        }

        return keys.ToArray();
    }

    /// <summary>
    /// Kafka DelayedFetch.tryComplete: answer when fetch.min.bytes are readable, or when a
    /// partition changed in a way the client must hear (deleted, new leader epoch, offset now out of range).
    /// </summary>
    public bool IsSatisfied()
    {
        long accumulated = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            Partition? partition = _partitions[i];
            if (partition is null)
            {
                continue;
            }

            if (!ReferenceEquals(replicaManager.GetPartition(partition.TopicPartition), partition) || partition.LeaderEpoch != _epochs[i])
            {
                return true;
            }

            CachedPartition entry = entries[i];
            long fetchOffset = entry.FetchOffset;
            if (fetchOffset > partition.LogEndOffset || fetchOffset < partition.LogStartOffset)
            {
                return true;
            }

            long bound = Bound(partition);
            if (bound <= fetchOffset)
            {
                continue;
            }

            // Kafka DelayedFetch case F: a read from an older segment than the bound stops at that
            // segment's end, so fetch.min.bytes may never be readable from here: answer now rather
            // than after max wait (which a lagging consumer would pay at every segment boundary).
            if (minBytes <= 1 || partition.Log.OnOlderSegment(fetchOffset, bound))
            {
                return true;
            }

            try
            {
                LogReadResult probe = partition.Log.Read(fetchOffset, entry.PartitionMaxBytes, bound, minOneBatch: true);
                accumulated += probe.SizeInBytes;
                probe.Records?.Dispose(); // only its size was needed: give the segment lease back now, not at GC
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                return true;
            }

            if (accumulated >= minBytes)
            {
                return true;
            }
        }

        return false;
    }

    private ErrorCode Resolve(int index, out Partition? partition)
    {
        partition = null;
        FetchKey key = entries[index].Key;
        string topic = key.Topic;
        if (key.TopicId != Guid.Empty)
        {
            TopicMetadata? metadata = replicaManager.Metadata.GetTopic(key.TopicId);
            if (metadata is null)
            {
                _partitions[index] = null;
                return ErrorCode.UnknownTopicId;
            }

            topic = metadata.Name;
        }

        ErrorCode error = replicaManager.TryGetPartition(new TopicPartition(topic, key.Partition), out partition);
        _partitions[index] = partition;
        if (partition is not null)
        {
            _epochs[index] = partition.LeaderEpoch;
        }

        return error;
    }

    private ErrorCode ReadPartition(Partition partition, CachedPartition entry, FetchResponse.PartitionData data, int maxBytes, bool minOneBatch)
    {
        ErrorCode epochError = partition.CheckLeaderEpoch(entry.CurrentLeaderEpoch);
        data.HighWatermark = partition.HighWatermark;
        data.LastStableOffset = partition.LastStableOffset;
        data.LogStartOffset = partition.LogStartOffset;
        if (epochError != ErrorCode.None)
        {
            return epochError;
        }

        LogReadResult result;
        try
        {
            result = partition.Log.Read(entry.FetchOffset, maxBytes, Bound(partition), minOneBatch);
        }
        catch (ObjectDisposedException)
        {
            return ErrorCode.UnknownTopicOrPartition; // deleted under us
        }
        catch (IOException)
        {
            return ErrorCode.KafkaStorageError;
        }

        // Offsets as of the read, so the response is consistent with the records.
        data.HighWatermark = Math.Min(result.HighWatermark, partition.HighWatermark);
        data.LastStableOffset = Math.Min(data.HighWatermark, partition.LastStableOffset);
        data.LogStartOffset = result.LogStartOffset;
        if (result.Error != ErrorCode.None)
        {
            return result.Error;
        }

        if (result.Records is { } records)
        {
            data.Records = BufferedFileRecords.ForResponse(records);
        }

        return ErrorCode.None;
    }

    private long Bound(Partition partition) =>
        isFollower ? partition.LogEndOffset : readCommitted ? partition.LastStableOffset : partition.HighWatermark;
}
