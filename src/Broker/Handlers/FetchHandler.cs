// Fetch (API key 1), versions 4-17.
// Consumers read whole record batches up to the high watermark (read_uncommitted) or the last
// stable offset (read_committed; equal to the high watermark until transactions exist); the
// records are file regions that the network layer sends with sendfile (zero copy). Limits:
// partition_max_bytes per partition and max_bytes (capped by fetch.max.bytes) per response, in
// whole batches, the first batch always whole (KIP-74). Long-poll: when fewer than min_bytes are
// readable the fetch waits in the fetch purgatory, woken by appends, for at most max_wait_ms,
// then reads again. Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID (v13+),
// OFFSET_OUT_OF_RANGE, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH (KIP-320).
// Fetch sessions (KIP-227, v7+): epoch 0 opens a full session, later epochs send only changes
// and get only partitions with news; FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH,
// FETCH_SESSION_TOPIC_ID_ERROR; sessions are bounded by max.incremental.fetch.session.cache.slots.
// Topic ids from v13 (KIP-516).
// Differences from Kafka: versions 0-3 (message format v0/v1, no max_bytes) are not offered, as
// Kafka 4.0 dropped them (KIP-896). Follower fetches (replica id >= 0) read up to the log end
// offset but do not yet move a high watermark (replication comes later); no diverging-epoch
// answers, no preferred read replica (KIP-392), no rack awareness.
using Broker.Config;
using Broker.Fetch;
using Broker.Metrics;
using Broker.Protocol.Wire;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Replication.Purgatory;
using Broker.Storage;

namespace Broker.Handlers;

public sealed class FetchHandler(ReplicaManager replicaManager, FetchSessionCache sessions, BrokerConfig config, BrokerMetrics? metrics = null) : IApiHandler
{
    private const int InitialEpoch = 0;
    private const int FinalEpoch = -1;

    public short ApiKey => FetchRequest.ApiKey;
    public short MinVersion => 4;
    public short MaxVersion => 17;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (FetchRequest)request;
        short version = context.ApiVersion;
        int replicaId = version >= 15 ? req.ReplicaState.ReplicaId : req.ReplicaId;
        bool isFollower = replicaId >= 0;
        bool usesTopicIds = version >= 13;
        bool readCommitted = req.IsolationLevel == 1;
        long nowMs = replicaManager.NowMs;
        int sessionId = version >= 7 ? req.SessionId : 0;
        int sessionEpoch = version >= 7 ? req.SessionEpoch : FinalEpoch;

        FetchSession? session = null;
        List<CachedPartition> entries;
        bool incremental = sessionEpoch != InitialEpoch && sessionEpoch != FinalEpoch;
        if (!incremental)
        {
            if (sessionId != 0)
            {
                sessions.Remove(sessionId); // a full request closes the session it names (Kafka FetchManager.newContext)
            }

            entries = FromRequest(req, usesTopicIds);
            if (sessionEpoch == InitialEpoch)
            {
                session = sessions.TryCreate(usesTopicIds, isFollower, nowMs);
                if (session is not null)
                {
                    lock (session.SyncRoot)
                    {
                        foreach (CachedPartition entry in entries)
                        {
                            session.AddOrUpdate(entry.Key, entry.FetchOffset, entry.PartitionMaxBytes, entry.CurrentLeaderEpoch, entry.LastFetchedEpoch, entry.FetcherLogStartOffset);
                        }

                        entries = new List<CachedPartition>(session.Partitions);
                    }
                }
            }
        }
        else
        {
            session = sessions.Get(sessionId, nowMs);
            if (session is null)
            {
                return SessionError(ErrorCode.FetchSessionIdNotFound);
            }

            lock (session.SyncRoot)
            {
                if (session.Epoch != sessionEpoch)
                {
                    return SessionError(ErrorCode.InvalidFetchSessionEpoch);
                }

                if (session.UsesTopicIds != usesTopicIds)
                {
                    return SessionError(ErrorCode.FetchSessionTopicIdError);
                }

                ApplyIncremental(session, req, usesTopicIds);
                session.NextEpoch();
                entries = new List<CachedPartition>(session.Partitions);
            }
        }

        int maxBytes = Math.Min(req.MaxBytes, config.GetInt("fetch.max.bytes"));
        var reader = new FetchPartitionReader(replicaManager, entries, isFollower, readCommitted, req.MinBytes);
        var results = new FetchResponse.PartitionData[entries.Count];
        int bytes = reader.ReadAll(results, maxBytes, out bool anyError);
        if (req.MaxWaitMs > 0 && entries.Count > 0 && bytes < req.MinBytes && !anyError)
        {
            TopicPartition[] keys = reader.WatchKeys();
            if (keys.Length > 0)
            {
                // The first read is discarded (too little to answer): give its segment leases back
                // now rather than at GC, including when the wait is cancelled (connection closed).
                ReleaseRecords(results);
                var operation = new DelayedFetch(nowMs + req.MaxWaitMs, reader);
                if (!replicaManager.FetchPurgatory.TryCompleteElseWatch(operation, keys))
                {
                    await operation.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                reader.ReadAll(results, maxBytes, out _);
            }
        }

        if (!isFollower)
        {
            metrics?.Topics.RecordFetch(entries, results, replicaManager.Metadata);
        }

        return BuildResponse(version, session, entries, results, incremental);
    }

    private static void ReleaseRecords(FetchResponse.PartitionData[] results)
    {
        foreach (FetchResponse.PartitionData data in results)
        {
            (data.Records as IDisposable)?.Dispose();
            data.Records = MemoryRecords.Empty;
        }
    }

    private static FetchResponse SessionError(ErrorCode error) => new() { ErrorCode = (short)error, SessionId = 0 };

    private List<CachedPartition> FromRequest(FetchRequest req, bool usesTopicIds)
    {
        var entries = new List<CachedPartition>();
        foreach (FetchRequest.FetchTopic topic in req.Topics)
        {
            foreach (FetchRequest.FetchPartition partition in topic.Partitions)
            {
                FetchKey key = usesTopicIds ? FetchKey.ById(topic.TopicId, partition.Partition) : FetchKey.ByName(topic.Topic, partition.Partition);
                entries.Add(new CachedPartition(key)
                {
                    FetchOffset = partition.FetchOffset,
                    PartitionMaxBytes = partition.PartitionMaxBytes,
                    CurrentLeaderEpoch = partition.CurrentLeaderEpoch,
                    LastFetchedEpoch = partition.LastFetchedEpoch,
                    FetcherLogStartOffset = partition.LogStartOffset,
                });
            }
        }

        return entries;
    }

    private static void ApplyIncremental(FetchSession session, FetchRequest req, bool usesTopicIds)
    {
        foreach (FetchRequest.FetchTopic topic in req.Topics)
        {
            foreach (FetchRequest.FetchPartition partition in topic.Partitions)
            {
                FetchKey key = usesTopicIds ? FetchKey.ById(topic.TopicId, partition.Partition) : FetchKey.ByName(topic.Topic, partition.Partition);
                session.AddOrUpdate(key, partition.FetchOffset, partition.PartitionMaxBytes, partition.CurrentLeaderEpoch, partition.LastFetchedEpoch, partition.LogStartOffset);
            }
        }

        foreach (FetchRequest.ForgottenTopic forgotten in req.ForgottenTopicsData)
        {
            foreach (int partition in forgotten.Partitions)
            {
                session.Remove(usesTopicIds ? FetchKey.ById(forgotten.TopicId, partition) : FetchKey.ByName(forgotten.Topic, partition));
            }
        }
    }

    /// <summary>
    /// Full fetches answer every partition; incremental ones only partitions with records, an
    /// error, or a changed high watermark / last stable offset / log start offset (KIP-227).
    /// A session remembers what it last sent, and partitions that returned data move behind the others.
    /// </summary>
    private static FetchResponse BuildResponse(short version, FetchSession? session, List<CachedPartition> entries, FetchResponse.PartitionData[] results, bool incremental)
    {
        var response = new FetchResponse { SessionId = session?.Id ?? 0 };
        FetchResponse.FetchableTopicResponse? current = null;
        FetchKey currentKey = default;
        if (session is not null)
        {
            Monitor.Enter(session.SyncRoot);
        }

        try
        {
            for (int i = 0; i < entries.Count; i++)
            {
                CachedPartition entry = entries[i];
                FetchResponse.PartitionData data = results[i];
                if (version < 12 && data.CurrentLeader.LeaderId != -1)
                {
                    data.CurrentLeader = new FetchResponse.LeaderIdAndEpoch(); // tagged field of v12+ only
                }

                if (session is not null)
                {
                    bool hasRecords = (data.Records?.SizeInBytes ?? 0) > 0;
                    bool changed = hasRecords || data.ErrorCode != 0
                        || data.HighWatermark != entry.HighWatermark
                        || data.LastStableOffset != entry.LastStableOffset
                        || (version >= 5 && data.LogStartOffset != entry.LogStartOffset);
                    entry.HighWatermark = data.HighWatermark;
                    entry.LastStableOffset = data.LastStableOffset;
                    entry.LogStartOffset = data.LogStartOffset;
                    if (hasRecords)
                    {
                        session.MoveToEnd(entry);
                    }

                    if (incremental && !changed)
                    {
                        continue;
                    }
                }

                FetchKey key = entry.Key;
                if (current is null || key.TopicId != currentKey.TopicId || key.Topic != currentKey.Topic)
                {
                    current = new FetchResponse.FetchableTopicResponse { Topic = key.Topic, TopicId = key.TopicId };
                    response.Responses.Add(current);
                    currentKey = key;
                }

                current.Partitions.Add(data);
            }
        }
        finally
        {
            if (session is not null)
            {
                Monitor.Exit(session.SyncRoot);
            }
        }

        return response;
    }
}
