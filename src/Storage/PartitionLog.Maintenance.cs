using System.Diagnostics;
using Broker.Protocol;
using Broker.Storage.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Broker.Storage;

/// <summary>Truncation, DeleteRecords, retention, flush, timestamp lookups and close.</summary>
public sealed partial class PartitionLog
{
    /// <summary>ListOffsets special timestamps (Kafka ListOffsetsRequest).</summary>
    public const long LatestTimestamp = -1;
    public const long EarliestTimestamp = -2;
    public const long MaxTimestamp = -3;
    public const long EarliestLocalTimestamp = -4;

    /// <summary>
    /// ListOffsets (Kafka fetchOffsetByTimestamp): -2 earliest, -1 latest (log end offset; the
    /// caller bounds it by the high watermark or last stable offset for consumers), -3 the earliest
    /// record carrying the largest timestamp, else the first record whose timestamp is &gt;=
    /// <paramref name="timestamp"/>, with that record's timestamp. Records inside compressed
    /// batches are found by decompressing the one batch that holds the answer, as Kafka does.
    /// Null when no record qualifies.
    /// </summary>
    public TimestampAndOffset? LookupOffsetForTimestamp(long timestamp)
    {
        long logStartOffset = LogStartOffset;
        long logEndOffset = LogEndOffset;
        LogSegment[] segments = _segments;
        switch (timestamp)
        {
            case EarliestTimestamp:
            case EarliestLocalTimestamp:
                return new TimestampAndOffset(-1, logStartOffset, EpochForOffset(logStartOffset));
            case LatestTimestamp:
                return new TimestampAndOffset(-1, logEndOffset, LeaderEpochCache.LatestEpoch);
            case MaxTimestamp:
                return LookupOffsetOfMaxTimestamp(segments);
        }

        if (timestamp < 0)
        {
            return null;
        }

        foreach (LogSegment segment in segments)
        {
            if (segment.MaxTimestampSoFar < timestamp)
            {
                continue;
            }

            if (segment.TryFindOffsetByTimestamp(timestamp, logStartOffset, out TimestampAndOffset found) && found.Offset < logEndOffset)
            {
                return WithEpoch(found);
            }
        }

        return null;
    }

    /// <summary>The segment with the largest timestamp (the first one on a tie, as Kafka's maxBy), then the record inside it.</summary>
    private TimestampAndOffset? LookupOffsetOfMaxTimestamp(LogSegment[] segments)
    {
        LogSegment? best = null;
        long bestTimestamp = -1;
        foreach (LogSegment segment in segments)
        {
            long ts = segment.MaxTimestampSoFar;
            if (ts > bestTimestamp)
            {
                bestTimestamp = ts;
                best = segment;
            }
        }

        return best is not null && best.TryFindOffsetOfMaxTimestamp(out TimestampAndOffset found) ? WithEpoch(found) : null;
    }

    /// <summary>The batch's leader epoch when it has one, else the epoch cache's (batches from before KIP-101).</summary>
    private TimestampAndOffset WithEpoch(TimestampAndOffset found) =>
        found.LeaderEpoch >= 0 ? found : found with { LeaderEpoch = EpochForOffset(found.Offset) };

    private int EpochForOffset(long offset)
    {
        int epoch = LeaderEpochCache.UndefinedEpoch;
        foreach ((int e, long start) in LeaderEpochCache.Entries)
        {
            if (start <= offset)
            {
                epoch = e;
            }
        }

        return epoch;
    }

    /// <summary>
    /// Removes every record at or above <paramref name="offset"/> (followers after a leader change,
    /// Kafka truncateTo). Segments above are deleted; the one holding the offset becomes active.
    /// </summary>
    public void TruncateTo(long offset)
    {
        lock (_writeLock)
        {
            ThrowIfClosed();
            if (offset >= _logEndOffset)
            {
                return;
            }

            if (offset <= _logStartOffset)
            {
                TruncateFullyAndStartAtLocked(offset);
                return;
            }

            long nowMs = NowMs;
            LogSegment[] segments = _segments;
            int keep = segments.Length;
            while (keep > 1 && segments[keep - 1].BaseOffset > offset)
            {
                keep--;
            }

            for (int i = keep; i < segments.Length; i++)
            {
                ScheduleDelete(segments[i], nowMs);
            }

            LogSegment active = segments[keep - 1];
            _segments = segments[..keep];
            active.TruncateTo(offset);
            active.OpenForAppend(Config);

            // Truncating inside a batch removes the whole batch: the end is the last batch kept.
            long newEnd = active.TryReadLastBatch(out BatchInfo last) ? last.LastOffset + 1 : active.BaseOffset;
            Debug.Assert(newEnd <= offset, "truncation never extends the log");
            Volatile.Write(ref _logEndOffset, newEnd);
            if (_highWatermark > _logEndOffset)
            {
                Volatile.Write(ref _highWatermark, _logEndOffset);
            }

            Volatile.Write(ref _recoveryPoint, Math.Min(_recoveryPoint, _logEndOffset));
            LeaderEpochCache.TruncateFromEnd(_logEndOffset);
            ProducerState.DeleteSnapshotsAbove(_logEndOffset);
            LoadProducerState(_logEndOffset, reloadFromSnapshot: true);
            _logger.LogInformation("{Partition}: truncated to offset {Offset}", TopicPartition, offset);
        }
    }

    /// <summary>Deletes all segments and restarts the log empty at <paramref name="offset"/> (Kafka truncateFullyAndStartAt).</summary>
    public void TruncateFullyAndStartAt(long offset)
    {
        lock (_writeLock)
        {
            ThrowIfClosed();
            TruncateFullyAndStartAtLocked(offset);
        }
    }

    private void TruncateFullyAndStartAtLocked(long offset)
    {
        long nowMs = NowMs;
        foreach (LogSegment segment in _segments)
        {
            ScheduleDelete(segment, nowMs);
        }

        _segments = new[] { LogSegment.Create(Directory, offset, Config, nowMs, _handleCache) };
        Volatile.Write(ref _logEndOffset, offset);
        Volatile.Write(ref _logStartOffset, offset);
        Volatile.Write(ref _highWatermark, offset);
        Volatile.Write(ref _recoveryPoint, offset);
        LeaderEpochCache.Clear();
        ProducerState.DeleteSnapshotsAbove(-1);
        ProducerState.Clear(offset);
    }

    /// <summary>
    /// DeleteRecords (KIP-107): moves the log start offset up to <paramref name="offset"/> and deletes
    /// the segments entirely below it. OFFSET_OUT_OF_RANGE above the high watermark (Kafka
    /// maybeIncrementLogStartOffset). Returns the resulting log start offset (low watermark).
    /// </summary>
    public (ErrorCode Error, long LowWatermark) DeleteRecordsBefore(long offset)
    {
        lock (_writeLock)
        {
            ThrowIfClosed();
            if (offset > _highWatermark || offset < 0)
            {
                return (ErrorCode.OffsetOutOfRange, _logStartOffset);
            }

            if (offset > _logStartOffset)
            {
                Volatile.Write(ref _logStartOffset, offset);
                LeaderEpochCache.TruncateFromStart(offset);
                DeleteSegmentsBelowLocked(offset, NowMs);
            }

            return (ErrorCode.None, _logStartOffset);
        }
    }

    /// <summary>
    /// Deletes whole old segments by retention.ms and retention.bytes and below the log start
    /// offset (Kafka deleteOldSegments). Never the active segment, never a segment holding
    /// offsets at or above the high watermark. Returns the number of segments deleted.
    /// </summary>
    public int DeleteOldSegments()
    {
        lock (_writeLock)
        {
            if (_closed)
            {
                return 0;
            }

            long nowMs = NowMs;
            LogSegment[] segments = _segments;
            long totalSize = SizeInBytes;
            int deletable = 0;
            for (int i = 0; i < segments.Length - 1; i++)
            {
                LogSegment segment = segments[i];
                long nextBase = segments[i + 1].BaseOffset;
                if (nextBase > _highWatermark)
                {
                    break;
                }

                bool belowStart = nextBase <= _logStartOffset;
                bool expired = Config.Delete && Config.RetentionMs >= 0 && nowMs - LargestTimestampForRetention(segment) > Config.RetentionMs;
                bool oversized = Config.Delete && Config.RetentionBytes >= 0 && totalSize - segment.Size >= Config.RetentionBytes;
                if (!(belowStart || expired || oversized))
                {
                    break;
                }

                totalSize -= segment.Size;
                deletable++;
            }

            if (deletable == 0)
            {
                return 0;
            }

            long newStart = segments[deletable].BaseOffset;
            if (newStart > _logStartOffset)
            {
                Volatile.Write(ref _logStartOffset, newStart);
                LeaderEpochCache.TruncateFromStart(newStart);
            }

            DeleteSegmentsBelowLocked(newStart, nowMs);
            _logger.LogInformation("{Partition}: retention deleted {Count} segments, log start offset now {LogStartOffset}", TopicPartition, deletable, _logStartOffset);
            return deletable;
        }
    }

    /// <summary>Kafka uses the largest record timestamp, or the file's mtime when the segment has none.</summary>
    private static long LargestTimestampForRetention(LogSegment segment)
    {
        long ts = segment.MaxTimestampSoFar;
        if (ts >= 0)
        {
            return ts;
        }

        try
        {
            return new DateTimeOffset(File.GetLastWriteTimeUtc(segment.LogPath)).ToUnixTimeMilliseconds();
        }
        catch (IOException)
        {
            return long.MaxValue;
        }
    }

    private void DeleteSegmentsBelowLocked(long offset, long nowMs)
    {
        LogSegment[] segments = _segments;
        int remove = 0;
        while (remove < segments.Length - 1 && segments[remove + 1].BaseOffset <= offset)
        {
            remove++;
        }

        if (remove == 0)
        {
            return;
        }

        _segments = segments[remove..];
        for (int i = 0; i < remove; i++)
        {
            ScheduleDelete(segments[i], nowMs);
        }
    }

    /// <summary>Renames the segment's files *.deleted now and closes/deletes them after file.delete.delay.ms.</summary>
    private void ScheduleDelete(LogSegment segment, long nowMs)
    {
        try
        {
            segment.RenameForDelete();
        }
        catch (IOException e)
        {
            _logger.LogWarning(e, "{Partition}: could not rename segment {BaseOffset} for deletion", TopicPartition, segment.BaseOffset);
        }

        lock (_pendingDeletes)
        {
            _pendingDeletes.Add((segment, nowMs + Config.FileDeleteDelayMs));
        }
    }

    /// <summary>Closes and removes segments whose deletion delay has passed. Returns how many.</summary>
    public int DeletePendingSegments(bool force = false)
    {
        long nowMs = NowMs;
        int deleted = 0;
        lock (_pendingDeletes)
        {
            for (int i = _pendingDeletes.Count - 1; i >= 0; i--)
            {
                if (force || _pendingDeletes[i].DueMs <= nowMs)
                {
                    _pendingDeletes[i].Segment.DeleteFiles();
                    _pendingDeletes.RemoveAt(i);
                    deleted++;
                }
            }
        }

        return deleted;
    }

    /// <summary>fsyncs everything up to the log end offset and moves the recovery point (Kafka flush).</summary>
    public void Flush()
    {
        lock (_writeLock)
        {
            if (!_closed)
            {
                FlushLocked(_logEndOffset);
            }
        }
    }

    /// <summary>Flushes when the flush.ms policy says so (called by the log manager's scheduler).</summary>
    public bool FlushIfDue()
    {
        lock (_writeLock)
        {
            if (_closed || _unflushedMessages == 0 || Config.FlushMs == long.MaxValue || NowMs - _lastFlushMs < Config.FlushMs)
            {
                return false;
            }

            FlushLocked(_logEndOffset);
            return true;
        }
    }

    private void FlushLocked(long offset)
    {
        if (offset <= _recoveryPoint && _unflushedMessages == 0)
        {
            return;
        }

        foreach (LogSegment segment in _segments)
        {
            if (segment.BaseOffset >= _recoveryPoint || segment == ActiveSegment)
            {
                segment.Flush();
            }
        }

        _unflushedMessages = 0;
        _lastFlushMs = NowMs;
        Debug.Assert(offset <= _logEndOffset, "recovery point <= log end offset");
        Volatile.Write(ref _recoveryPoint, Math.Max(_recoveryPoint, offset));
    }

    /// <summary>
    /// Closes the log. A clean close flushes, trims the active segment's indexes and snapshots the
    /// producer state at the log end offset, so the next open needs no recovery.
    /// </summary>
    public void Close(bool clean = true)
    {
        lock (_writeLock)
        {
            if (_closed)
            {
                return;
            }

            if (clean)
            {
                FlushLocked(_logEndOffset);
                ActiveSegment.Seal(fsync: true);
                ProducerState.TakeSnapshot(_logEndOffset);
            }

            _closed = true;
            foreach (LogSegment segment in _segments)
            {
                segment.Dispose();
            }

            DeletePendingSegments(force: true);
        }
    }

    /// <summary>Closes without flushing (a crash, as far as the files are concerned: used by tests).</summary>
    internal void CloseWithoutFlush() => Close(clean: false);

    /// <summary>Renames the directory (topic deletion); the log must be closed.</summary>
    internal void MoveDirectory(string newDirectory)
    {
        Debug.Assert(_closed, "close before moving the directory");
        System.IO.Directory.Move(Directory, newDirectory);
        Directory = newDirectory;
    }

    /// <summary>Producer id expiry under the writer lock.</summary>
    internal int RemoveExpiredProducers(long nowMs, long expirationMs)
    {
        lock (_writeLock)
        {
            return _closed ? 0 : ProducerState.RemoveExpired(nowMs, expirationMs);
        }
    }

    public void Dispose() => Close(clean: true);
}
