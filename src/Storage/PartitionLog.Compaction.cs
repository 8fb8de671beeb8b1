using System.Diagnostics;
using Broker.Storage.Checkpoints;
using Broker.Storage.Cleaner;
using Microsoft.Extensions.Logging;

namespace Broker.Storage;

/// <summary>
/// Log compaction (cleanup.policy=compact; Kafka <c>LogCleaner</c> / <c>Cleaner.clean</c>) of the
/// sealed segments below the first uncleanable offset (the active segment's base offset or the
/// high watermark, whichever is lower). The cleaner checkpoint splits the cleanable part into a
/// clean section (already compacted) and a dirty one; a pass builds the offset map of the dirty
/// section, then copies every cleanable segment keeping the last record of each key, and swaps
/// the copies in. Offsets never change.
///
/// Each segment is rewritten on its own (Kafka groups small neighbours into one; we do not, so
/// compacted segments only shrink). Crash safety follows Kafka's file protocol: the copy is
/// written and fsynced as <c>.log.cleaned</c> (an interrupted copy is deleted at load), renamed to
/// <c>.log.swap</c> (from here the swap is completed at load), then the original's files are
/// renamed <c>.deleted</c> and the swap file takes the <c>.log</c> name; indexes are rebuilt on
/// first use. Tombstones (null values) are dropped by the first pass after delete.retention.ms has
/// passed since their segment was last appended to (we keep the copy's modification time);
/// Kafka 3.1+ measures delete.retention.ms from the pass that first saw the tombstone (KIP-534).
///
/// Threads: one cleaner per log at a time (the log manager's cleaner job); it reads sealed
/// segments under leases while appends go on, and takes the write lock only to swap.
/// </summary>
public sealed partial class PartitionLog
{
    private long _cleanerCheckpoint = -1;

    /// <summary>Offset below which the log is compacted (cleaner-offset-checkpoint); -1 before the first pass.</summary>
    public long CleanerCheckpoint => Volatile.Read(ref _cleanerCheckpoint);

    internal void SetCleanerCheckpoint(long offset) => Volatile.Write(ref _cleanerCheckpoint, offset);

    /// <summary>
    /// Dirty bytes / cleanable bytes (Kafka's cleanableRatio): the share of the sealed segments
    /// below the first uncleanable offset that were appended since the last pass.
    /// </summary>
    public double DirtyRatio
    {
        get
        {
            (long cleanBytes, long dirtyBytes, _, _) = CleanableRange(_segments);
            long total = cleanBytes + dirtyBytes;
            return total == 0 ? 0 : (double)dirtyBytes / total;
        }
    }

    /// <summary>
    /// One compaction pass when the topic is compacted and there is a dirty section; returns the
    /// number of records removed (0 when nothing was cleaned). Swaps each rewritten segment as
    /// soon as it is written.
    /// </summary>
    public int Clean()
    {
        if (!Config.Compact || _closed)
        {
            return 0;
        }

        LogSegment[] segments = _segments;
        (_, long dirtyBytes, int cleanableCount, long firstUncleanable) = CleanableRange(segments);
        if (dirtyBytes == 0)
        {
            return 0;
        }

        long firstDirty = Math.Max(CleanerCheckpoint, LogStartOffset);
        var map = new OffsetMap();
        for (int i = 0; i < cleanableCount; i++)
        {
            if (segments[i + 1].BaseOffset > firstDirty)
            {
                SegmentCleaner.BuildOffsetMap(segments[i], firstDirty, map);
            }
        }

        long nowMs = NowMs;
        int removed = 0;
        for (int i = 0; i < cleanableCount; i++)
        {
            LogSegment segment = segments[i];
            long lastModifiedMs = LastModifiedMs(segment.LogPath, nowMs);
            bool dropTombstones = nowMs - lastModifiedMs > Config.DeleteRetentionMs;
            CleanedSegment cleaned = SegmentCleaner.WriteCleaned(segment, map, dropTombstones);
            if (cleaned.RecordsRemoved == 0)
            {
                File.Delete(cleaned.CleanedPath);
                continue;
            }

            // Tombstone age is the original's: a rewrite must not restart the clock.
            File.SetLastWriteTimeUtc(cleaned.CleanedPath, DateTimeOffset.FromUnixTimeMilliseconds(lastModifiedMs).UtcDateTime);
            string swapPath = segment.LogPath + SegmentCleaner.SwapSuffix;
            File.Move(cleaned.CleanedPath, swapPath, overwrite: true);
            CheckpointFile.FsyncDirectory(Directory);
            if (!TrySwap(segment, swapPath))
            {
                File.Delete(swapPath);
                continue;
            }

            removed += cleaned.RecordsRemoved;
            _logger.LogDebug("{Partition}: compacted segment {BaseOffset} from {Before} to {After} bytes ({Removed} records removed)",
                TopicPartition, segment.BaseOffset, cleaned.SizeBefore, cleaned.SizeAfter, cleaned.RecordsRemoved);
        }

        SetCleanerCheckpoint(Math.Max(CleanerCheckpoint, firstUncleanable));
        if (removed > 0)
        {
            _logger.LogInformation("{Partition}: compaction removed {Removed} records below offset {Offset}", TopicPartition, removed, firstUncleanable);
        }

        return removed;
    }

    /// <summary>Writes the cleaned copy of one segment without swapping it in (tests: a crash right after).</summary>
    internal string WriteCleanedForTest(int segmentIndex, bool renameToSwap)
    {
        LogSegment[] segments = _segments;
        var map = new OffsetMap();
        for (int i = 0; i < segments.Length; i++)
        {
            SegmentCleaner.BuildOffsetMap(segments[i], LogStartOffset, map);
        }

        CleanedSegment cleaned = SegmentCleaner.WriteCleaned(segments[segmentIndex], map, dropTombstones: false);
        if (!renameToSwap)
        {
            return cleaned.CleanedPath;
        }

        string swapPath = segments[segmentIndex].LogPath + SegmentCleaner.SwapSuffix;
        File.Move(cleaned.CleanedPath, swapPath, overwrite: true);
        return swapPath;
    }

    /// <summary>
    /// Replaces <paramref name="old"/> by the segment in <paramref name="swapPath"/> under the write
    /// lock; false when the segment is gone meanwhile (retention, truncation, close).
    /// </summary>
    private bool TrySwap(LogSegment old, string swapPath)
    {
        lock (_writeLock)
        {
            LogSegment[] segments = _segments;
            int index = Array.IndexOf(segments, old);
            if (_closed || index < 0 || index == segments.Length - 1)
            {
                return false;
            }

            long nowMs = NowMs;
            string logPath = old.LogPath;
            ScheduleDelete(old, nowMs); // .log -> .log.deleted first: a crash from here on completes the swap at load
            File.Move(swapPath, logPath, overwrite: false);
            CheckpointFile.FsyncDirectory(Directory);
            LogSegment fresh = LogSegment.Open(Directory, old.BaseOffset, Config, nowMs, _handleCache);
            var replaced = (LogSegment[])segments.Clone();
            replaced[index] = fresh;
            Debug.Assert(index + 1 < replaced.Length && replaced[index + 1].BaseOffset > fresh.BaseOffset, "segments stay ordered");
            _segments = replaced;
            return true;
        }
    }

    /// <summary>(clean bytes, dirty bytes, number of cleanable segments, first uncleanable offset).</summary>
    private (long CleanBytes, long DirtyBytes, int CleanableCount, long FirstUncleanable) CleanableRange(LogSegment[] segments)
    {
        long firstUncleanable = Math.Min(segments[^1].BaseOffset, HighWatermark);
        long firstDirty = Math.Max(CleanerCheckpoint, LogStartOffset);
        long cleanBytes = 0;
        long dirtyBytes = 0;
        int count = 0;
        for (int i = 0; i < segments.Length - 1 && segments[i + 1].BaseOffset <= firstUncleanable; i++)
        {
            if (segments[i + 1].BaseOffset <= firstDirty)
            {
                cleanBytes += segments[i].Size;
            }
            else
            {
                dirtyBytes += segments[i].Size;
            }

            count++;
        }

        long end = count == 0 ? firstDirty : segments[count].BaseOffset;
        return (cleanBytes, dirtyBytes, count, end);
    }

    private static long LastModifiedMs(string path, long fallbackMs)
    {
        try
        {
            return new DateTimeOffset(File.GetLastWriteTimeUtc(path)).ToUnixTimeMilliseconds();
        }
        catch (IOException)
        {
            return fallbackMs;
        }
    }
}
