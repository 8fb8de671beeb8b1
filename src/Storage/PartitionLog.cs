using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Broker.Protocol;
using Broker.Protocol.Records;
using Broker.Storage.Checkpoints;
using Broker.Storage.Producer;
using Microsoft.Extensions.Logging;

namespace Broker.Storage;

/// <summary>
/// The log of one partition (Kafka <c>UnifiedLog</c> + <c>LocalLog</c>): an ordered set of
/// <see cref="LogSegment"/>s in <c>&lt;log.dir&gt;/&lt;topic&gt;-&lt;partition&gt;/</c>, the last one active.
///
/// Invariants (asserted where written): offsets are dense and increasing across segments;
/// LogStartOffset &lt;= HighWatermark &lt;= LogEndOffset; RecoveryPoint &lt;= LogEndOffset; leader
/// epochs in the epoch cache never decrease.
///
/// Threads: one writer at a time — Append, TruncateTo, DeleteRecordsBefore, retention, flush and
/// close are serialised on an internal lock (callers should still keep a single writer per
/// partition, as Kafka's Partition does). Read and the lookups take no lock: they work on an
/// immutable snapshot of the segment array and on the published log end offset; the writer
/// publishes bytes, then the segment size, then the log end offset.
/// Deleted segments are renamed *.deleted and closed after file.delete.delay.ms, so a
/// <see cref="FileRecords"/> handed out just before stays readable.
/// </summary>
public sealed partial class PartitionLog : IDisposable
{
    private readonly object _writeLock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SegmentHandleCache _handleCache;
    private readonly List<(LogSegment Segment, long DueMs)> _pendingDeletes = new();
    private volatile LogSegment[] _segments;
    private long _logEndOffset;
    private long _highWatermark;
    private long _logStartOffset;
    private long _recoveryPoint;
    private long _unflushedMessages;
    private long _lastFlushMs;
    private bool _closed;

    private PartitionLog(string directory, TopicPartition topicPartition, Guid topicId, LogConfig config, TimeProvider time, ILogger logger, LogSegment[] segments, SegmentHandleCache handleCache)
    {
        _handleCache = handleCache;
        Directory = directory;
        TopicPartition = topicPartition;
        TopicId = topicId;
        Config = config;
        _time = time;
        _logger = logger;
        _segments = segments;
        LeaderEpochCache = new LeaderEpochCache(null);
        ProducerState = new ProducerStateManager(directory);
        _lastFlushMs = time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    public TopicPartition TopicPartition { get; }

    public Guid TopicId { get; private set; }

    public string Directory { get; private set; }

    public LogConfig Config { get; private set; }

    /// <summary>First offset a consumer may fetch (moved by retention and DeleteRecords).</summary>
    public long LogStartOffset => Volatile.Read(ref _logStartOffset);

    /// <summary>Offset the next appended record gets.</summary>
    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    /// <summary>Offset below which every replica in the ISR has the records; moved by the partition's owner.</summary>
    public long HighWatermark => Volatile.Read(ref _highWatermark);

    /// <summary>Offset below which everything is fsynced (recovery after a crash starts here).</summary>
    public long RecoveryPoint => Volatile.Read(ref _recoveryPoint);

    public LeaderEpochCache LeaderEpochCache { get; private set; }

    /// <summary>Idempotent producer state; read it only from the writer (e.g. under the owner's lock).</summary>
    public ProducerStateManager ProducerState { get; private set; }

    public int SegmentCount => _segments.Length;

    /// <summary>Bytes in all segments.</summary>
    public long SizeInBytes
    {
        get
        {
            long size = 0;
            foreach (LogSegment segment in _segments)
            {
                size += segment.Size;
            }

            return size;
        }
    }

    /// <summary>Base offsets of the segments, oldest first (tests and admin tools).</summary>
    public long[] SegmentBaseOffsets
    {
        get
        {
            LogSegment[] segments = _segments;
            long[] result = new long[segments.Length];
            for (int i = 0; i < segments.Length; i++)
            {
                result[i] = segments[i].BaseOffset;
            }

            return result;
        }
    }

    internal LogSegment ActiveSegment => _segments[^1];

    internal LogSegment[] Segments => _segments;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Appends validated v2 batches as the leader (Kafka appendAsLeader). The batches' bytes are
    /// rewritten in place — the caller hands them over: base offset (assigned from the log end
    /// offset), PartitionLeaderEpoch = <paramref name="leaderEpoch"/>, and for LogAppendTime topics
    /// max timestamp + timestamp type + CRC. Idempotent batches are checked against the producer
    /// state first; a retried batch returns its original offsets with IsDuplicate and writes nothing.
    /// </summary>
    public LogAppendInfo Append(ReadOnlyMemory<byte> validatedBatches, int leaderEpoch)
    {
        Span<byte> batches = MemoryMarshal.AsMemory(validatedBatches).Span;
        lock (_writeLock)
        {
            ThrowIfClosed();
            long nowMs = NowMs;
            ErrorCode error = ScanForAppend(batches, out bool idempotent, out int recordCount);
            if (error != ErrorCode.None)
            {
                return LogAppendInfo.Failed(error, LogStartOffset);
            }

            SequenceCheckResult check = idempotent ? CheckProducerSequences(batches) : SequenceCheckResult.Ok;
            if (check.Error != ErrorCode.None)
            {
                return LogAppendInfo.Failed(check.Error, LogStartOffset);
            }

            if (check.IsDuplicate)
            {
                return new LogAppendInfo(ErrorCode.None, check.FirstOffset, check.LastOffset, -1, -1, -1, LogStartOffset, 0, 0, true);
            }

            bool logAppendTime = Config.MessageTimestampType == TimestampType.LogAppendTime;
            long offset = _logEndOffset;
            long firstOffset = offset;
            long maxTimestamp = -1;
            long offsetOfMaxTimestamp = -1;
            int position = 0;
            while (position < batches.Length)
            {
                Span<byte> batch = batches.Slice(position);
                int size = BinaryPrimitives.ReadInt32BigEndian(batch.Slice(RecordBatchHeader.BatchLengthOffset)) + RecordBatchHeader.LogOverhead;
                batch = batch.Slice(0, size);
                int lastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(batch.Slice(RecordBatchHeader.LastOffsetDeltaOffset));
                RecordBatchHeader.SetBaseOffset(batch, offset);
                RecordBatchHeader.SetPartitionLeaderEpoch(batch, leaderEpoch);
                if (logAppendTime)
                {
                    RecordBatchHeader.SetMaxTimestamp(batch, nowMs);
                    RecordBatchHeader.SetTimestampType(batch, TimestampType.LogAppendTime);
                    RecordBatchHeader.UpdateCrc(batch);
                }

                long batchMaxTimestamp = BinaryPrimitives.ReadInt64BigEndian(batch.Slice(RecordBatchHeader.MaxTimestampOffset));
                if (batchMaxTimestamp > maxTimestamp)
                {
                    maxTimestamp = batchMaxTimestamp;
                    offsetOfMaxTimestamp = offset + lastOffsetDelta;
                }

                offset += lastOffsetDelta + 1L;
                position += size;
            }

            long lastOffset = offset - 1;
            if (leaderEpoch >= 0 && leaderEpoch > LeaderEpochCache.LatestEpoch)
            {
                LeaderEpochCache.Assign(leaderEpoch, firstOffset);
            }

            if (!TryWriteToSegments(batches, firstOffset, lastOffset, nowMs))
            {
                return LogAppendInfo.Failed(ErrorCode.KafkaStorageError, LogStartOffset);
            }

            if (idempotent)
            {
                UpdateProducerState(batches);
            }

            return new LogAppendInfo(ErrorCode.None, firstOffset, lastOffset, maxTimestamp, offsetOfMaxTimestamp,
                logAppendTime ? nowMs : -1, LogStartOffset, recordCount, batches.Length, false);
        }
    }

    /// <summary>
    /// Appends batches fetched from the leader with their offsets and epochs unchanged (Kafka
    /// appendAsFollower). The first batch must start at the log end offset.
    /// </summary>
    public LogAppendInfo AppendAsFollower(ReadOnlyMemory<byte> batches)
    {
        ReadOnlySpan<byte> span = batches.Span;
        lock (_writeLock)
        {
            ThrowIfClosed();
            ErrorCode error = ScanForAppend(span, out bool idempotent, out int recordCount);
            if (error != ErrorCode.None)
            {
                return LogAppendInfo.Failed(error, LogStartOffset);
            }

            long expected = _logEndOffset;
            long firstOffset = -1;
            long maxTimestamp = -1;
            long offsetOfMaxTimestamp = -1;
            int position = 0;
            while (position < span.Length)
            {
                var header = new RecordBatchHeader(span.Slice(position));
                if (header.BaseOffset < expected)
                {
                    _logger.LogWarning("{Partition}: follower append at offset {Offset} below log end offset {Leo}", TopicPartition, header.BaseOffset, expected);
                    return LogAppendInfo.Failed(ErrorCode.OffsetOutOfRange, LogStartOffset);
                }

                if (firstOffset < 0)
                {
                    firstOffset = header.BaseOffset;
                }

                if (header.PartitionLeaderEpoch > LeaderEpochCache.LatestEpoch)
                {
                    LeaderEpochCache.Assign(header.PartitionLeaderEpoch, header.BaseOffset);
                }

                if (header.MaxTimestamp > maxTimestamp)
                {
                    maxTimestamp = header.MaxTimestamp;
                    offsetOfMaxTimestamp = header.LastOffset;
                }

                expected = header.LastOffset + 1;
                position += header.SizeInBytes;
            }

            if (!TryWriteToSegments(span, firstOffset, expected - 1, NowMs))
            {
                return LogAppendInfo.Failed(ErrorCode.KafkaStorageError, LogStartOffset);
            }

            if (idempotent)
            {
                UpdateProducerState(span);
            }

            return new LogAppendInfo(ErrorCode.None, firstOffset, expected - 1, maxTimestamp, offsetOfMaxTimestamp, -1, LogStartOffset, recordCount, span.Length, false);
        }
    }

    /// <summary>
    /// Reads whole batches starting with the one holding <paramref name="fetchOffset"/>, within one
    /// segment, at most <paramref name="maxBytes"/> (but the first batch whole when
    /// <paramref name="minOneBatch"/>, as Kafka does so that a consumer is never stuck behind a big
    /// batch), and only batches that start below <paramref name="maxOffsetExclusive"/> (e.g. the
    /// high watermark). OFFSET_OUT_OF_RANGE when fetchOffset &lt; LogStartOffset or &gt; LogEndOffset.
    /// Lock-free; allocates only the returned <see cref="FileRecords"/>.
    /// </summary>
    public LogReadResult Read(long fetchOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch)
    {
        try
        {
            return ReadUnchecked(fetchOffset, maxBytes, maxOffsetExclusive, minOneBatch);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // A segment deleted or closed under the reader, or a failing disk: the fetch gets
            // KAFKA_STORAGE_ERROR and the client retries (possibly after a metadata refresh).
            _logger.LogWarning(e, "{Partition}: read at offset {Offset} failed", TopicPartition, fetchOffset);
            return new LogReadResult(ErrorCode.KafkaStorageError, null, -1, HighWatermark, LogStartOffset, LogEndOffset);
        }
    }

    private LogReadResult ReadUnchecked(long fetchOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch)
    {
        long logEndOffset = LogEndOffset; // read before the segments: they hold at least this much
        long logStartOffset = LogStartOffset;
        long highWatermark = HighWatermark;
        LogSegment[] segments = _segments;
        if (fetchOffset < logStartOffset || fetchOffset > logEndOffset)
        {
            return new LogReadResult(ErrorCode.OffsetOutOfRange, null, -1, highWatermark, logStartOffset, logEndOffset);
        }

        long upper = Math.Min(maxOffsetExclusive, logEndOffset);
        if (fetchOffset >= upper)
        {
            return new LogReadResult(ErrorCode.None, null, -1, highWatermark, logStartOffset, logEndOffset);
        }

        for (int i = FloorSegmentIndex(segments, fetchOffset); i < segments.Length; i++)
        {
            LogSegment segment = segments[i];
            SegmentLease lease = segment.Acquire();
            bool handedOut = false;
            try
            {
                if (TryReadSegment(segment, i + 1 < segments.Length ? segments[i + 1].BaseOffset : long.MaxValue, fetchOffset, maxBytes, upper, minOneBatch,
                    in lease, out FileRecords? records, out long firstBatchOffset, out bool stop))
                {
                    handedOut = true;
                    return new LogReadResult(ErrorCode.None, records, firstBatchOffset, highWatermark, logStartOffset, logEndOffset);
                }

                if (stop)
                {
                    break;
                }
            }
            finally
            {
                if (!handedOut)
                {
                    lease.Dispose();
                }
            }
        }

        return new LogReadResult(ErrorCode.None, null, -1, highWatermark, logStartOffset, logEndOffset);
    }

    /// <summary>
    /// The read within one segment: true with a region that takes over <paramref name="lease"/>;
    /// false with <paramref name="stop"/> when nothing can be returned, else false to try the next segment.
    /// </summary>
    private static bool TryReadSegment(LogSegment segment, long nextSegmentBase, long fetchOffset, int maxBytes, long upper, bool minOneBatch,
        in SegmentLease lease, out FileRecords? records, out long firstBatchOffset, out bool stop)
    {
        records = null;
        firstBatchOffset = -1;
        stop = true;
        int segmentSize = segment.Size;
        if (!segment.TryFindBatch(fetchOffset, segmentSize, out BatchInfo first))
        {
            stop = false; // no batch at or above fetchOffset here (a gap): try the next segment
            return false;
        }

        if (first.BaseOffset >= upper)
        {
            return false;
        }

        long end = segmentSize;
        if (upper < nextSegmentBase && segment.TryFindBatch(upper, segmentSize, out BatchInfo bound))
        {
            end = bound.Position;
        }

        long start = first.Position;
        if (end <= start)
        {
            return false; // maxOffsetExclusive falls inside the first batch: Kafka returns nothing either
        }

        if (end - start > maxBytes)
        {
            end = segment.LastBatchBoundaryAtOrBefore(start, start + Math.Max(maxBytes, 0));
            if (end == start)
            {
                if (!minOneBatch)
                {
                    return false;
                }

                end = first.NextPosition;
            }
        }

        Debug.Assert(end > start && end <= segmentSize, "a read returns whole batches within the published segment");
        records = segment.CreateRecords(in lease, start, (int)(end - start));
        firstBatchOffset = first.BaseOffset;
        return true;
    }

    /// <summary>
    /// Moves the high watermark (Kafka updateHighWatermark): clamped to [LogStartOffset, LogEndOffset].
    /// Returns the value set.
    /// </summary>
    public long UpdateHighWatermark(long highWatermark)
    {
        long logEndOffset = LogEndOffset;
        Debug.Assert(highWatermark <= logEndOffset, "high watermark <= log end offset");
        long value = Math.Clamp(highWatermark, LogStartOffset, logEndOffset);
        Volatile.Write(ref _highWatermark, value);
        return value;
    }

    /// <summary>Epoch and end offset for OffsetForLeaderEpoch (Kafka UnifiedLog.endOffsetForEpoch).</summary>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int leaderEpoch) =>
        LeaderEpochCache.EndOffsetFor(leaderEpoch, LogEndOffset);

    /// <summary>Checks an idempotent batch against the producer state without appending (call under the writer's lock).</summary>
    public SequenceCheckResult CheckSequence(long producerId, short producerEpoch, int firstSequence, int lastSequence)
    {
        lock (_writeLock)
        {
            return ProducerState.CheckSequence(producerId, producerEpoch, firstSequence, lastSequence);
        }
    }

    /// <summary>Applies a topic config change (new segments use the new sizes).</summary>
    public void UpdateConfig(LogConfig config)
    {
        lock (_writeLock)
        {
            Config = config;
            ActiveSegment.UpdateConfig(config);
        }
    }

    /// <summary>Index of the segment with the largest base offset &lt;= offset (0 when below all).</summary>
    /// <summary>
    /// True when <paramref name="offset"/> lies in an older segment than <paramref name="than"/>
    /// (Kafka LogOffsetMetadata.onOlderSegment): a read from it stops at that segment's end.
    /// </summary>
    public bool OnOlderSegment(long offset, long than)
    {
        LogSegment[] segments = _segments;
        return FloorSegmentIndex(segments, offset) < FloorSegmentIndex(segments, than);
    }

    private static int FloorSegmentIndex(LogSegment[] segments, long offset)
    {
        int lo = 0;
        int hi = segments.Length - 1;
        int found = 0;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (segments[mid].BaseOffset <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    /// <summary>
    /// An I/O error (disk full, device gone) fails the append with KAFKA_STORAGE_ERROR instead of
    /// throwing into the request path; nothing is published, so the next append rewrites the same
    /// positions (Kafka goes further and takes the whole log dir offline).
    /// </summary>
    private bool TryWriteToSegments(ReadOnlySpan<byte> batches, long firstOffset, long lastOffset, long nowMs)
    {
        try
        {
            WriteToSegments(batches, firstOffset, lastOffset, nowMs);
            return true;
        }
        catch (IOException e)
        {
            _logger.LogError(e, "{Partition}: append at offset {Offset} failed", TopicPartition, firstOffset);
            return false;
        }
    }

    /// <summary>Rolls when needed, writes, publishes the log end offset, applies the flush policy. Under the write lock.</summary>
    private void WriteToSegments(ReadOnlySpan<byte> batches, long firstOffset, long lastOffset, long nowMs)
    {
        Debug.Assert(firstOffset >= _logEndOffset, "offsets increase");
        Debug.Assert(lastOffset >= firstOffset, "non-empty append");
        LogSegment active = ActiveSegment;
        if (active.ShouldRoll(Config, batches.Length, lastOffset, nowMs) || firstOffset - active.BaseOffset > int.MaxValue)
        {
            active = Roll(firstOffset, nowMs);
        }

        active.Append(batches);
        Volatile.Write(ref _logEndOffset, lastOffset + 1);

        _unflushedMessages += lastOffset - firstOffset + 1;
        if (_unflushedMessages >= Config.FlushMessages)
        {
            FlushLocked(_logEndOffset);
        }
    }

    /// <summary>
    /// Seals the active segment (final time index entry, trimmed and fsynced indexes, fsynced
    /// log), snapshots the producer state and starts a new segment at <paramref name="baseOffset"/>.
    /// </summary>
    private LogSegment Roll(long baseOffset, long nowMs)
    {
        LogSegment old = ActiveSegment;
        old.Seal(fsync: true);
        ProducerState.TakeSnapshot(_logEndOffset);
        LogSegment created;
        if (old.Size == 0 && old.BaseOffset <= baseOffset)
        {
            // Kafka replaces an empty active segment instead of leaving an empty one behind.
            LogSegment[] current = _segments;
            old.DeleteFiles();
            created = LogSegment.Create(Directory, baseOffset, Config, nowMs, _handleCache);
            LogSegment[] replaced = (LogSegment[])current.Clone();
            replaced[^1] = created;
            _segments = replaced;
        }
        else
        {
            created = LogSegment.Create(Directory, baseOffset, Config, nowMs, _handleCache);
            LogSegment[] current = _segments;
            var grown = new LogSegment[current.Length + 1];
            current.CopyTo(grown, 0);
            grown[^1] = created;
            _segments = grown;
        }

        Volatile.Write(ref _recoveryPoint, Math.Max(_recoveryPoint, Math.Min(baseOffset, _logEndOffset)));
        _logger.LogDebug("{Partition}: rolled new segment at offset {BaseOffset}", TopicPartition, baseOffset);
        return created;
    }

    /// <summary>Forces a roll (tests, and Kafka's roll for retention of the active segment).</summary>
    public void Roll()
    {
        lock (_writeLock)
        {
            ThrowIfClosed();
            if (ActiveSegment.Size > 0)
            {
                Roll(_logEndOffset, NowMs);
            }
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ObjectDisposedException(nameof(PartitionLog), $"The log of {TopicPartition} is closed.");
        }
    }
}
