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
/// Neighbouring segments whose sizes add up to at most segment.bytes are copied into one (Kafka's
/// groupSegmentsBySize), so segments shrunk by earlier passes merge. Crash safety follows Kafka's
/// file protocol: the copy is written and fsynced as <c>.log.cleaned</c> (an interrupted copy is
/// deleted at load), renamed to <c>.log.swap</c> (from here the swap is completed at load,
/// dropping the old segments it covers), then the originals' files are renamed <c>.deleted</c>
/// and the swap file takes the first one's <c>.log</c> name; indexes are rebuilt on first use. Tombstones (null values) are dropped by the first pass after delete.retention.ms has
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
        int from = 0;
        while (from < cleanableCount)
        {
            int count = SegmentCleaner.GroupBySize(segments, from, cleanableCount, Config.SegmentBytes);
            removed += CleanGroup(segments, from, count, map, nowMs);
            from += count;
        }

        SetCleanerCheckpoint(Math.Max(CleanerCheckpoint, firstUncleanable));
        if (removed > 0)
        {
            _logger.LogInformation("{Partition}: compaction removed {Removed} records below offset {Offset}", TopicPartition, removed, firstUncleanable);
        }

        return removed;
    }

    /// <summary>Copies <paramref name="count"/> neighbouring segments into one and swaps it in; returns the records removed.</summary>
    private int CleanGroup(LogSegment[] segments, int from, int count, OffsetMap map, long nowMs)
    {
        bool[] dropTombstones = new bool[count];
        long newestModifiedMs = 0;
        for (int i = 0; i < count; i++)
        {
            long lastModifiedMs = LastModifiedMs(segments[from + i].LogPath, nowMs);
            dropTombstones[i] = nowMs - lastModifiedMs > Config.DeleteRetentionMs;
            newestModifiedMs = Math.Max(newestModifiedMs, lastModifiedMs);
        }

        CleanedSegment cleaned = SegmentCleaner.WriteCleaned(segments, from, count, map, dropTombstones);
        if (cleaned.RecordsRemoved == 0 && count == 1)
        {
            File.Delete(cleaned.CleanedPath);
            return 0;
        }

        // Tombstone age is the sources' (the newest of them, so that none is dropped early): a
        // rewrite must not restart the clock.
        File.SetLastWriteTimeUtc(cleaned.CleanedPath, DateTimeOffset.FromUnixTimeMilliseconds(newestModifiedMs).UtcDateTime);
        string swapPath = segments[from].LogPath + SegmentCleaner.SwapSuffix;
        File.Move(cleaned.CleanedPath, swapPath, overwrite: true);
        CheckpointFile.FsyncDirectory(Directory);
        if (!TrySwap(segments, from, count, swapPath))
        {
            File.Delete(swapPath);
            return 0;
        }

        _logger.LogDebug("{Partition}: compacted {Count} segments from offset {BaseOffset}, {Before} to {After} bytes ({Removed} records removed)",
            TopicPartition, count, segments[from].BaseOffset, cleaned.SizeBefore, cleaned.SizeAfter, cleaned.RecordsRemoved);
        return cleaned.RecordsRemoved;
    }

    /// <summary>Writes the cleaned copy of a group of segments without swapping it in (tests: a crash right after).</summary>
    internal string WriteCleanedForTest(int from, int count, bool renameToSwap)
    {
        LogSegment[] segments = _segments;
        var map = new OffsetMap();
        for (int i = 0; i < segments.Length; i++)
        {
            SegmentCleaner.BuildOffsetMap(segments[i], LogStartOffset, map);
        }

        CleanedSegment cleaned = SegmentCleaner.WriteCleaned(segments, from, count, map, new bool[count]);
        if (!renameToSwap)
        {
            return cleaned.CleanedPath;
        }

        string swapPath = segments[from].LogPath + SegmentCleaner.SwapSuffix;
        File.Move(cleaned.CleanedPath, swapPath, overwrite: true);
        return swapPath;
    }

    /// <summary>
    /// Replaces <paramref name="count"/> segments from <paramref name="sources"/>[<paramref name="from"/>]
    /// by the one in <paramref name="swapPath"/> under the write lock; false when any of them is gone
    /// meanwhile (retention, truncation, close). The old files become *.deleted before the swap file
    /// takes the first one's name: a crash in between completes the swap at load, which also drops
    /// the old segments the swap file covers.
    /// </summary>
    private bool TrySwap(LogSegment[] sources, int from, int count, string swapPath)
    {
        lock (_writeLock)
        {
            LogSegment[] segments = _segments;
            int index = Array.IndexOf(segments, sources[from]);
            if (_closed || index < 0 || index + count >= segments.Length)
            {
                return false;
            }

            for (int i = 1; i < count; i++)
            {
                if (!ReferenceEquals(segments[index + i], sources[from + i]))
                {
                    return false;
                }
            }

            long nowMs = NowMs;
            string logPath = sources[from].LogPath;
            // Renames that fail throw before anything is scheduled for deletion or swapped: the
            // log keeps reading the old files (under their new names) and the next load
            // completes the swap from the .swap file.
            for (int i = 0; i < count; i++)
            {
                segments[index + i].RenameForDelete();
            }

            lock (_pendingDeletes)
            {
                for (int i = 0; i < count; i++)
                {
                    _pendingDeletes.Add((segments[index + i], nowMs + Config.FileDeleteDelayMs));
                }
            }

            File.Move(swapPath, logPath, overwrite: false);
            CheckpointFile.FsyncDirectory(Directory);
            LogSegment fresh = LogSegment.Open(Directory, sources[from].BaseOffset, Config, nowMs, _handleCache);
            var replaced = new LogSegment[segments.Length - count + 1];
            Array.Copy(segments, 0, replaced, 0, index);
            replaced[index] = fresh;
            Array.Copy(segments, index + count, replaced, index + 1, segments.Length - index - count);
            Debug.Assert(replaced[index + 1].BaseOffset > fresh.BaseOffset, "segments stay ordered");
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
