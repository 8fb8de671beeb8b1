using System.Diagnostics;
using System.Globalization;
using Broker.Storage.Checkpoints;
using Broker.Storage.Producer;
using Microsoft.Extensions.Logging;

namespace Broker.Storage;

/// <summary>Opening a partition directory and recovering it (Kafka <c>LogLoader</c>).</summary>
public sealed partial class PartitionLog
{
    /// <summary>Where loading starts from; produced by the owner from the log dir's checkpoints.</summary>
    internal readonly record struct LoadState(bool CleanShutdown, long RecoveryPoint, long LogStartOffset, long HighWatermark);

    /// <summary>Creates a new, empty partition directory with partition.metadata.</summary>
    internal static PartitionLog Create(string directory, TopicPartition topicPartition, Guid topicId, LogConfig config, TimeProvider time, ILogger logger,
        SegmentHandleCache? handleCache = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        if (topicId != Guid.Empty)
        {
            PartitionMetadataFile.Write(directory, topicId);
        }

        return Load(directory, topicPartition, topicId, config, time, logger, new LoadState(true, 0, 0, 0), handleCache);
    }

    /// <summary>
    /// Opens an existing partition directory. After a clean shutdown nothing is scanned (indexes
    /// load lazily and are sanity-checked then). After a crash every segment from the one holding
    /// the recovery point on is validated batch by batch (size, magic, CRC, increasing offsets);
    /// the first torn or corrupt batch and everything after it are removed, and those segments'
    /// indexes are rebuilt — no completely written batch before that point is lost.
    /// Sealed segments' files are not opened here (only those recovery scans, and then the
    /// <paramref name="handleCache"/> bounds them); without a cache the log gets its own.
    /// </summary>
    internal static PartitionLog Load(string directory, TopicPartition topicPartition, Guid topicId, LogConfig config, TimeProvider time, ILogger logger, LoadState state,
        SegmentHandleCache? handleCache = null)
    {
        handleCache ??= new SegmentHandleCache();
        long nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        RemoveLeftoverFiles(directory, logger);
        Guid storedTopicId = PartitionMetadataFile.Read(directory) ?? Guid.Empty;
        if (topicId == Guid.Empty)
        {
            topicId = storedTopicId;
        }
        else if (storedTopicId != Guid.Empty && storedTopicId != topicId)
        {
            throw new InvalidDataException($"{directory} belongs to topic id {KafkaUuid.ToKafkaString(storedTopicId)}, not {KafkaUuid.ToKafkaString(topicId)}.");
        }
        else if (storedTopicId == Guid.Empty)
        {
            PartitionMetadataFile.Write(directory, topicId);
        }

        List<long> baseOffsets = ListSegmentBaseOffsets(directory);
        var segments = new List<LogSegment>(Math.Max(baseOffsets.Count, 1));
        try
        {
            foreach (long baseOffset in baseOffsets)
            {
                segments.Add(LogSegment.Open(directory, baseOffset, config, nowMs, handleCache));
            }

            if (segments.Count == 0)
            {
                segments.Add(LogSegment.Create(directory, Math.Max(state.LogStartOffset, 0), config, nowMs, handleCache));
            }

            bool recovered = false;
            if (!state.CleanShutdown)
            {
                recovered = Recover(segments, state.RecoveryPoint, topicPartition, logger);
            }

            LogSegment active = segments[^1];
            active.OpenForAppend(config);

            long logEndOffset = active.BaseOffset;
            for (int i = segments.Count - 1; i >= 0; i--)
            {
                if (segments[i].TryReadLastBatch(out BatchInfo last))
                {
                    logEndOffset = Math.Max(active.BaseOffset, last.LastOffset + 1);
                    break;
                }
            }

            var log = new PartitionLog(directory, topicPartition, topicId, config, time, logger, segments.ToArray(), handleCache);
            log._logEndOffset = logEndOffset;
            log._logStartOffset = Math.Min(Math.Max(state.LogStartOffset, segments[0].BaseOffset), logEndOffset);
            log._highWatermark = Math.Clamp(state.HighWatermark, log._logStartOffset, logEndOffset);
            log._recoveryPoint = state.CleanShutdown ? logEndOffset : Math.Min(state.RecoveryPoint, logEndOffset);
            log.LeaderEpochCache = LoadEpochCache(directory, logger, topicPartition);
            log.LeaderEpochCache.TruncateFromEnd(logEndOffset);
            log.LeaderEpochCache.TruncateFromStart(log._logStartOffset);
            log.LoadProducerState(logEndOffset, reloadFromSnapshot: true);
            if (recovered)
            {
                // Everything was just validated: make it durable so the next crash starts here.
                log.FlushLocked(logEndOffset);
            }

            return log;
        }
        catch
        {
            foreach (LogSegment segment in segments)
            {
                segment.Dispose();
            }

            throw;
        }
    }

    private static bool Recover(List<LogSegment> segments, long recoveryPoint, TopicPartition topicPartition, ILogger logger)
    {
        int first = 0;
        for (int i = 0; i < segments.Count; i++)
        {
            if (segments[i].BaseOffset <= recoveryPoint)
            {
                first = i;
            }
        }

        long previousLastOffset = -1;
        if (first > 0 && segments[first - 1].TryReadLastBatch(out BatchInfo previous))
        {
            previousLastOffset = previous.LastOffset;
        }

        for (int i = first; i < segments.Count; i++)
        {
            LogSegment segment = segments[i];
            long lastOffset = previousLastOffset;
            int truncated;
            using (segment.Acquire())
            {
                // One lease across the rebuild and the seal: the handle cache must not drop the
                // rebuilt indexes before they are written.
                segment.RebuildIndexes(validate: true, out truncated, batch => lastOffset = batch.LastOffset, previousLastOffset);
                segment.MarkIndexesLoaded();
                if (i < segments.Count - 1)
                {
                    segment.Seal(fsync: false); // writes the rebuilt indexes, trimmed
                }
            }

            previousLastOffset = lastOffset;

            if (truncated > 0)
            {
                logger.LogWarning("{Partition}: recovery truncated {Bytes} bytes of torn or corrupt data at position {Position} of segment {BaseOffset}",
                    topicPartition, truncated, segment.Size, segment.BaseOffset);
                for (int j = segments.Count - 1; j > i; j--)
                {
                    logger.LogWarning("{Partition}: recovery deleted segment {BaseOffset} after the corrupt one", topicPartition, segments[j].BaseOffset);
                    segments[j].DeleteFiles();
                    segments.RemoveAt(j);
                }

                break;
            }
        }

        // An empty segment can only be the last one.
        for (int i = segments.Count - 2; i >= 0; i--)
        {
            if (segments[i].Size == 0 && segments.Count > 1)
            {
                segments[i].DeleteFiles();
                segments.RemoveAt(i);
            }
        }

        return true;
    }

    private static LeaderEpochCache LoadEpochCache(string directory, ILogger logger, TopicPartition topicPartition)
    {
        try
        {
            return LeaderEpochCache.Load(directory);
        }
        catch (InvalidDataException e)
        {
            // The cache is an optimisation for follower truncation; an unreadable one is rebuilt
            // from new appends (Kafka would fail the dir; a partial cache only makes followers truncate more).
            logger.LogWarning(e, "{Partition}: unreadable leader-epoch-checkpoint, starting with an empty cache", topicPartition);
            File.Delete(Path.Combine(directory, LeaderEpochCache.FileName));
            return LeaderEpochCache.Load(directory);
        }
    }

    /// <summary>
    /// Rebuilds the producer state for a log ending at <paramref name="logEndOffset"/>: newest snapshot
    /// at or below it, then the batch headers after the snapshot (Kafka loadProducerState).
    /// </summary>
    private void LoadProducerState(long logEndOffset, bool reloadFromSnapshot)
    {
        long from = reloadFromSnapshot ? ProducerState.LoadLatestSnapshot(logEndOffset) : -1;
        if (from < 0)
        {
            ProducerState.Clear(LogStartOffset);
            from = LogStartOffset;
        }

        if (from >= logEndOffset)
        {
            return;
        }

        LogSegment[] segments = _segments;
        for (int i = FloorSegmentIndex(segments, from); i < segments.Length; i++)
        {
            LogSegment segment = segments[i];
            using SegmentLease lease = segment.Acquire();
            segment.EnsureIndexesLoaded();
            (_, int position) = segment.OffsetIndex.Lookup(from);
            var scanner = new BatchScanner(lease.Handle, position, segment.Size, 64 * 1024);
            try
            {
                while (scanner.Next(out BatchInfo batch))
                {
                    if (batch.LastOffset >= from && batch.BaseOffset < logEndOffset && batch.ProducerId >= 0)
                    {
                        ProducerState.Update(batch);
                    }
                }
            }
            finally
            {
                scanner.Dispose();
            }
        }
    }

    private static List<long> ListSegmentBaseOffsets(string directory)
    {
        var offsets = new List<long>();
        foreach (string file in System.IO.Directory.EnumerateFiles(directory, "*" + LogSegment.LogSuffix))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
            {
                offsets.Add(offset);
            }
        }

        offsets.Sort();
        return offsets;
    }

    /// <summary>
    /// Finishes or undoes what an interrupted operation left behind (Kafka
    /// LogLoader.removeTempFilesAndCollectSwapFiles): a compaction copy renamed <c>.log.swap</c> was
    /// complete and fsynced, so it replaces the segment (whose indexes are then stale and removed,
    /// to be rebuilt on first use); then *.deleted (segments already removed), *.tmp (half-written
    /// checkpoints), *.cleaned (an unfinished compaction copy) and indexes without a .log go.
    /// </summary>
    private static void RemoveLeftoverFiles(string directory, ILogger logger)
    {
        string swapSuffix = LogSegment.LogSuffix + Cleaner.SegmentCleaner.SwapSuffix;
        foreach (string file in System.IO.Directory.GetFiles(directory, "*" + swapSuffix))
        {
            string logFile = file.Substring(0, file.Length - Cleaner.SegmentCleaner.SwapSuffix.Length);
            long swapBase = long.Parse(Path.GetFileName(logFile).AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture);
            long swapNext = Cleaner.SegmentCleaner.NextOffsetOf(file);
            logger.LogInformation("Completing the interrupted compaction swap of {File}", logFile);

            // The swap file replaces the group of segments it was cleaned from: those whose base
            // offset it covers go (Kafka LogLoader). A group's tail whose records were all removed
            // lies beyond what the file covers and stays, consistent if not yet compacted.
            foreach (long baseOffset in ListSegmentBaseOffsets(directory))
            {
                if (baseOffset >= swapBase && (baseOffset == swapBase || baseOffset < swapNext))
                {
                    File.Delete(Path.Combine(directory, LogSegment.FileName(baseOffset, LogSegment.IndexSuffix)));
                    File.Delete(Path.Combine(directory, LogSegment.FileName(baseOffset, LogSegment.TimeIndexSuffix)));
                    if (baseOffset != swapBase)
                    {
                        File.Delete(Path.Combine(directory, LogSegment.FileName(baseOffset, LogSegment.LogSuffix)));
                    }
                }
            }

            File.Move(file, logFile, overwrite: true);
        }

        foreach (string file in System.IO.Directory.EnumerateFiles(directory))
        {
            string name = Path.GetFileName(file);
            bool leftover = name.EndsWith(LogSegment.DeletedSuffix, StringComparison.Ordinal)
                || name.EndsWith(".tmp", StringComparison.Ordinal)
                || name.EndsWith(Cleaner.SegmentCleaner.CleanedSuffix, StringComparison.Ordinal)
                || name.EndsWith(Cleaner.SegmentCleaner.SwapSuffix, StringComparison.Ordinal);
            if (!leftover && (name.EndsWith(LogSegment.IndexSuffix, StringComparison.Ordinal) || name.EndsWith(LogSegment.TimeIndexSuffix, StringComparison.Ordinal)))
            {
                string logFile = Path.Combine(directory, name.Substring(0, name.IndexOf('.')) + LogSegment.LogSuffix);
                leftover = !File.Exists(logFile);
            }

            if (leftover)
            {
                logger.LogDebug("Removing leftover file {File}", file);
                File.Delete(file);
            }
        }
    }
}
