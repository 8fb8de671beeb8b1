using System.Diagnostics;
using Broker.Protocol;
using Broker.Storage;

namespace Broker.Replication;

/// <summary>
/// One partition as this broker hosts it (Kafka <c>cluster.Partition</c>): its log, its leader
/// epoch, replica set and in-sync replicas, and the high watermark it moves. Single-node today:
/// the leader is this broker, Replicas = Isr = {this broker}, so the high watermark follows the
/// log end offset right after every append. Shaped for replication: the high watermark is
/// computed as the smallest log end offset in the ISR (<see cref="MaybeIncrementHighWatermark"/>),
/// and acks=all checks min.insync.replicas against the ISR.
///
/// Invariants (asserted): LogStartOffset &lt;= HighWatermark &lt;= LogEndOffset; the high
/// watermark never moves back while this broker stays leader; leader epochs never decrease.
/// Threads: appends and leadership changes are serialised on the partition's lock; reads are
/// lock-free (the log publishes offsets with volatile writes).
/// </summary>
public sealed class Partition
{
    private readonly object _leaderIsrLock = new();
    private volatile int[] _replicas;
    private volatile int[] _isr;
    private volatile int _leaderEpoch;
    private volatile int _leaderId;

    public Partition(TopicPartition topicPartition, Guid topicId, PartitionLog log, int localBrokerId)
    {
        TopicPartition = topicPartition;
        TopicId = topicId;
        Log = log;
        LocalBrokerId = localBrokerId;
        _replicas = new[] { localBrokerId };
        _isr = new[] { localBrokerId };
        _leaderId = localBrokerId;
        // Keep the epoch the log was last written in: on a single node leadership never moves,
        // and a client that cached the epoch must not see it go backwards.
        _leaderEpoch = Math.Max(0, log.LeaderEpochCache.LatestEpoch);
        if (log.LeaderEpochCache.LatestEpoch < _leaderEpoch)
        {
            // As Kafka's makeLeader: the epoch starts at the log end offset even before the first
            // append, so OffsetForLeaderEpoch answers for an empty log too.
            log.LeaderEpochCache.Assign(_leaderEpoch, log.LogEndOffset);
        }

        // After an unclean stop the checkpointed high watermark may lag the log end offset. As the
        // only ISR member this broker has every record, so, as Kafka's makeLeader does, the high
        // watermark moves to the smallest log end offset in the ISR: its own.
        MaybeIncrementHighWatermarkLocked();
    }

    public TopicPartition TopicPartition { get; }

    public Guid TopicId { get; }

    public PartitionLog Log { get; }

    public int LocalBrokerId { get; }

    public int LeaderId => _leaderId;

    public bool IsLeader => _leaderId == LocalBrokerId;

    public int LeaderEpoch => _leaderEpoch;

    public IReadOnlyList<int> Replicas => _replicas;

    public IReadOnlyList<int> Isr => _isr;

    public long HighWatermark => Log.HighWatermark;

    public long LogEndOffset => Log.LogEndOffset;

    public long LogStartOffset => Log.LogStartOffset;

    /// <summary>
    /// Last stable offset (KIP-98): the first offset of the earliest open transaction, bounded by
    /// the high watermark. No transactions are written yet, so it equals the high watermark.
    /// </summary>
    public long LastStableOffset => Log.HighWatermark;

    public int MinInSyncReplicas => Log.Config.MinInSyncReplicas;

    /// <summary>
    /// Becomes leader with <paramref name="leaderEpoch"/> (Kafka makeLeader). Epochs only grow;
    /// a stale call is ignored. Returns true when the state changed.
    /// </summary>
    public bool MakeLeader(int leaderEpoch, int[] replicas, int[] isr)
    {
        lock (_leaderIsrLock)
        {
            if (leaderEpoch < _leaderEpoch)
            {
                return false;
            }

            _replicas = replicas;
            _isr = isr;
            _leaderId = LocalBrokerId;
            _leaderEpoch = leaderEpoch;
            MaybeIncrementHighWatermarkLocked();
            return true;
        }
    }

    /// <summary>
    /// Checks the epoch a client sent (KIP-320): -1 skips the check; older than ours is
    /// FENCED_LEADER_EPOCH (the client's metadata is stale), newer is UNKNOWN_LEADER_EPOCH (ours is).
    /// </summary>
    public ErrorCode CheckLeaderEpoch(int currentLeaderEpoch)
    {
        if (currentLeaderEpoch < 0)
        {
            return ErrorCode.None;
        }

        int epoch = _leaderEpoch;
        if (currentLeaderEpoch < epoch)
        {
            return ErrorCode.FencedLeaderEpoch;
        }

        return currentLeaderEpoch > epoch ? ErrorCode.UnknownLeaderEpoch : ErrorCode.None;
    }

    /// <summary>
    /// Appends validated batches as the leader (Kafka appendRecordsToLeader): min.insync.replicas
    /// for acks=all (NOT_ENOUGH_REPLICAS), then the log append — which checks idempotent producers'
    /// sequences against the producer state and answers a retried batch with its original
    /// offsets — then the high watermark. The batches' bytes are rewritten in place (offsets,
    /// leader epoch, LogAppendTime). The caller wakes the purgatories.
    /// </summary>
    public LogAppendInfo AppendRecordsToLeader(ReadOnlyMemory<byte> batches, short requiredAcks)
    {
        lock (_leaderIsrLock)
        {
            if (!IsLeader)
            {
                return LogAppendInfo.Failed(ErrorCode.NotLeaderOrFollower, Log.LogStartOffset);
            }

            int isrSize = _isr.Length;
            if (requiredAcks == -1 && isrSize < MinInSyncReplicas)
            {
                return LogAppendInfo.Failed(ErrorCode.NotEnoughReplicas, Log.LogStartOffset);
            }

            LogAppendInfo info = Log.Append(batches, _leaderEpoch);
            if (info.Error == ErrorCode.None && !info.IsDuplicate)
            {
                Debug.Assert(info.LastOffset < Log.LogEndOffset, "appended offsets are below the log end offset");
                MaybeIncrementHighWatermarkLocked();
            }

            return info;
        }
    }

    /// <summary>
    /// Moves the high watermark to the smallest log end offset in the ISR (Kafka
    /// maybeIncrementLeaderHW). With only this broker in the ISR that is the log end offset.
    /// Returns true when it moved.
    /// </summary>
    public bool MaybeIncrementHighWatermark()
    {
        lock (_leaderIsrLock)
        {
            return MaybeIncrementHighWatermarkLocked();
        }
    }

    /// <summary>Whether acks=all for records up to <paramref name="requiredOffset"/> (exclusive) is satisfied.</summary>
    public (bool Done, ErrorCode Error) CheckEnoughReplicasReachOffset(long requiredOffset)
    {
        if (!IsLeader)
        {
            return (true, ErrorCode.NotLeaderOrFollower);
        }

        if (HighWatermark >= requiredOffset)
        {
            // Kafka answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below the minimum meanwhile.
            return _isr.Length < MinInSyncReplicas ? (true, ErrorCode.NotEnoughReplicasAfterAppend) : (true, ErrorCode.None);
        }

        return (false, ErrorCode.None);
    }

    private bool MaybeIncrementHighWatermarkLocked()
    {
        // Single node: the only ISR member is this broker, whose log end offset is the log's.
        // With followers this becomes the minimum of their fetched log end offsets.
        long newHighWatermark = Log.LogEndOffset;
        long old = Log.HighWatermark;
        if (newHighWatermark <= old)
        {
            return false;
        }

        long set = Log.UpdateHighWatermark(newHighWatermark);
        Debug.Assert(set <= Log.LogEndOffset, "high watermark <= log end offset");
        Debug.Assert(set >= old, "the leader's high watermark never moves back");
        return set != old;
    }
}
