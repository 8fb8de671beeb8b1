using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Broker.Storage.Checkpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Storage;

/// <summary>
/// All partition logs of this broker over one or more log.dirs (Kafka <c>LogManager</c>).
/// Each log dir holds meta.properties, the per-dir checkpoints (recovery-point-offset-checkpoint,
/// log-start-offset-checkpoint, replication-offset-checkpoint) and one directory per partition.
/// A clean shutdown leaves <c>.kafka_cleanshutdown</c> in each dir; at the next start its presence
/// means no log needs recovery (the marker is removed once loading is done, as Kafka does).
///
/// A partition that cannot be loaded (I/O error, unreadable metadata) is marked offline and
/// logged; the broker keeps running and answers KAFKA_STORAGE_ERROR for it.
///
/// Background work (retention, flush.ms, checkpoints, producer id expiry, delayed file deletion)
/// runs on timers from the given TimeProvider, so tests drive it with a fake clock; each job is
/// also a public method. Threads: every public method is thread-safe.
/// </summary>
public sealed partial class LogManager : IDisposable
{
    public const string CleanShutdownFileName = ".kafka_cleanshutdown";
    public const string DeleteDirSuffix = "-delete";

    private readonly ConcurrentDictionary<TopicPartition, PartitionLog> _logs = new();
    private readonly ConcurrentDictionary<TopicPartition, string> _offline = new();
    private readonly object _createLock = new();
    private readonly object _backgroundLock = new();
    private readonly List<ITimer> _timers = new();
    private readonly List<Task> _directoryDeletes = new();
    private readonly TimeProvider _time;
    private readonly SegmentHandleCache _handleCache;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private bool _started;
    private bool _shutdown;

    public LogManager(LogManagerConfig config, TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
    {
        if (config.LogDirs.Count == 0)
        {
            throw new ArgumentException("At least one log dir is needed.", nameof(config));
        }

        Config = config;
        _handleCache = new SegmentHandleCache(config.OpenSegmentHandlesMax);
        _time = time ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<LogManager>();
    }

    public LogManagerConfig Config { get; }

    public IReadOnlyList<string> LogDirs => Config.LogDirs;

    /// <summary>The bound on open sealed segments shared by every log (log.segment.open.handles.max).</summary>
    public SegmentHandleCache HandleCache => _handleCache;

    public ICollection<PartitionLog> AllLogs => _logs.Values;

    /// <summary>Partitions that failed to load, with the reason.</summary>
    public IReadOnlyDictionary<TopicPartition, string> OfflinePartitions => _offline;

    public bool IsOffline(TopicPartition topicPartition) => _offline.ContainsKey(topicPartition);

    /// <summary>Loads every log dir (recovering after a crash) and starts the background timers.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        Startup();
        return Task.CompletedTask;
    }

    /// <summary>Synchronous <see cref="StartAsync"/>.</summary>
    public void Startup()
    {
        lock (_createLock)
        {
            if (_started)
            {
                return;
            }

            foreach (string dir in Config.LogDirs)
            {
                LoadLogDir(dir);
            }

            _started = true;
        }

        StartTimers();
    }

    public PartitionLog? GetLog(TopicPartition topicPartition) =>
        _logs.TryGetValue(topicPartition, out PartitionLog? log) ? log : null;

    /// <summary>
    /// The partition's log, creating its directory in the log dir with the fewest partitions.
    /// Throws IOException when the partition is offline.
    /// </summary>
    public PartitionLog GetOrCreateLog(TopicPartition topicPartition, Guid topicId, LogConfig? config = null)
    {
        if (_logs.TryGetValue(topicPartition, out PartitionLog? existing))
        {
            return existing;
        }

        lock (_createLock)
        {
            if (_logs.TryGetValue(topicPartition, out existing))
            {
                return existing;
            }

            if (_offline.TryGetValue(topicPartition, out string? reason))
            {
                throw new IOException($"Partition {topicPartition} is offline: {reason}");
            }

            string dir = PickLogDir();
            string directory = Path.Combine(dir, topicPartition.DirectoryName);
            PartitionLog log = PartitionLog.Create(directory, topicPartition, topicId, config ?? Config.DefaultLogConfig, _time, _loggerFactory.CreateLogger<PartitionLog>(), _handleCache);
            _logs[topicPartition] = log;
            _logger.LogInformation("Created log for {Partition} in {Dir}", topicPartition, dir);
            return log;
        }
    }

    /// <summary>
    /// Deletes a partition (topic deletion or reassignment away): closes the log, renames its
    /// directory to <c>&lt;topic&gt;-&lt;partition&gt;.&lt;uuid&gt;-delete</c> at once, and removes
    /// it in the background (Kafka asyncDelete). Returns false when there was no such log.
    /// </summary>
    public bool DeleteLog(TopicPartition topicPartition)
    {
        PartitionLog? log;
        lock (_createLock)
        {
            _offline.TryRemove(topicPartition, out _);
            if (!_logs.TryRemove(topicPartition, out log))
            {
                return false;
            }
        }

        log.Close(clean: false);
        string parent = Path.GetDirectoryName(log.Directory)!;
        string renamed = Path.Combine(parent, topicPartition.DirectoryName + "." + Guid.NewGuid().ToString("N") + DeleteDirSuffix);
        log.MoveDirectory(renamed);
        CheckpointFile.FsyncDirectory(parent);
        ScheduleDirectoryDelete(renamed);
        _logger.LogInformation("Deleted log for {Partition} (directory renamed to {Dir})", topicPartition, renamed);
        return true;
    }

    /// <summary>Completes when every directory deletion scheduled so far has finished (tests).</summary>
    public Task WhenDirectoryDeletesComplete()
    {
        lock (_directoryDeletes)
        {
            return Task.WhenAll(_directoryDeletes.ToArray());
        }
    }

    /// <summary>Retention for every log (log.retention.check.interval.ms job). Returns segments deleted.</summary>
    public int RunRetention()
    {
        int deleted = 0;
        foreach (PartitionLog log in _logs.Values)
        {
            try
            {
                deleted += log.DeleteOldSegments();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                MarkOffline(log.TopicPartition, e);
            }
        }

        return deleted;
    }

    /// <summary>Flushes logs whose flush.ms has passed (log.flush.scheduler.interval.ms job).</summary>
    public int FlushDirtyLogs()
    {
        int flushed = 0;
        foreach (PartitionLog log in _logs.Values)
        {
            try
            {
                if (log.FlushIfDue())
                {
                    flushed++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                MarkOffline(log.TopicPartition, e);
            }
        }

        return flushed;
    }

    /// <summary>Closes and removes segment files whose file.delete.delay.ms has passed.</summary>
    public int DeletePendingSegments()
    {
        int deleted = 0;
        foreach (PartitionLog log in _logs.Values)
        {
            deleted += log.DeletePendingSegments();
        }

        return deleted;
    }

    /// <summary>Removes producer ids idle for producer.id.expiration.ms.</summary>
    public int RemoveExpiredProducers()
    {
        long nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        int removed = 0;
        foreach (PartitionLog log in _logs.Values)
        {
            removed += log.RemoveExpiredProducers(nowMs, Config.ProducerIdExpirationMs);
        }

        return removed;
    }

    /// <summary>Writes the three per-dir offset checkpoints for every log dir.</summary>
    public void CheckpointAll()
    {
        foreach (string dir in Config.LogDirs)
        {
            try
            {
                CheckpointLogDir(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "Could not write checkpoints in {Dir}", dir);
            }
        }
    }

    /// <summary>
    /// Clean shutdown (Kafka LogManager.shutdown): stop background work, close every log cleanly
    /// (flush, trimmed indexes, producer snapshots), write the checkpoints, then the marker.
    /// </summary>
    public void Shutdown()
    {
        lock (_backgroundLock)
        {
            if (_shutdown)
            {
                return;
            }

            _shutdown = true;
            foreach (ITimer timer in _timers)
            {
                timer.Dispose();
            }

            _timers.Clear();
        }

        WaitForCleaner();

        var failedDirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (PartitionLog log in _logs.Values)
        {
            try
            {
                log.Close(clean: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "Could not close {Partition} cleanly", log.TopicPartition);
                failedDirs.Add(Path.GetDirectoryName(log.Directory)!);
            }
        }

        foreach (string dir in Config.LogDirs)
        {
            try
            {
                CheckpointLogDir(dir);
                if (!failedDirs.Contains(dir))
                {
                    CheckpointFile.WriteAtomically(Path.Combine(dir, CleanShutdownFileName), Encoding.UTF8.GetBytes("{\"version\":0,\"brokerEpoch\":-1}"));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "Could not complete the clean shutdown of {Dir}", dir);
            }
        }

        WhenDirectoryDeletesComplete().Wait(TimeSpan.FromSeconds(30));
    }

    public void Dispose() => Shutdown();

    private void MarkOffline(TopicPartition topicPartition, Exception e)
    {
        _logger.LogError(e, "Partition {Partition} is offline after a storage error", topicPartition);
        _offline[topicPartition] = e.Message;
        if (_logs.TryRemove(topicPartition, out PartitionLog? log))
        {
            try
            {
                log.Close(clean: false);
            }
            catch (Exception closeError) when (closeError is IOException or UnauthorizedAccessException)
            {
                _logger.LogDebug(closeError, "Closing offline partition {Partition}", topicPartition);
            }
        }
    }

    private string PickLogDir()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string dir in Config.LogDirs)
        {
            counts[Path.GetFullPath(dir)] = 0;
        }

        foreach (PartitionLog log in _logs.Values)
        {
            string parent = Path.GetFullPath(Path.GetDirectoryName(log.Directory)!);
            if (counts.TryGetValue(parent, out int n))
            {
                counts[parent] = n + 1;
            }
        }

        string best = Config.LogDirs[0];
        int bestCount = int.MaxValue;
        foreach (string dir in Config.LogDirs)
        {
            int n = counts[Path.GetFullPath(dir)];
            if (n < bestCount)
            {
                best = dir;
                bestCount = n;
            }
        }

        return best;
    }

    private void CheckpointLogDir(string dir)
    {
        string full = Path.GetFullPath(dir);
        var recoveryPoints = new List<KeyValuePair<TopicPartition, long>>();
        var logStartOffsets = new List<KeyValuePair<TopicPartition, long>>();
        var highWatermarks = new List<KeyValuePair<TopicPartition, long>>();
        var cleanerOffsets = new List<KeyValuePair<TopicPartition, long>>();
        foreach (PartitionLog log in _logs.Values)
        {
            if (Path.GetFullPath(Path.GetDirectoryName(log.Directory)!) != full)
            {
                continue;
            }

            recoveryPoints.Add(new(log.TopicPartition, log.RecoveryPoint));
            logStartOffsets.Add(new(log.TopicPartition, log.LogStartOffset));
            highWatermarks.Add(new(log.TopicPartition, log.HighWatermark));
            if (log.CleanerCheckpoint >= 0)
            {
                cleanerOffsets.Add(new(log.TopicPartition, log.CleanerCheckpoint));
            }
        }

        new OffsetCheckpointFile(Path.Combine(dir, OffsetCheckpointFile.RecoveryPointFileName)).Write(recoveryPoints);
        new OffsetCheckpointFile(Path.Combine(dir, OffsetCheckpointFile.LogStartOffsetFileName)).Write(logStartOffsets);
        new OffsetCheckpointFile(Path.Combine(dir, OffsetCheckpointFile.ReplicationOffsetFileName)).Write(highWatermarks);
        new OffsetCheckpointFile(Path.Combine(dir, OffsetCheckpointFile.CleanerOffsetFileName)).Write(cleanerOffsets);
    }

    private void ScheduleDirectoryDelete(string directory)
    {
        Task task = Task.Run(() =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning(e, "Could not delete {Dir}", directory);
            }
        });
        lock (_directoryDeletes)
        {
            _directoryDeletes.RemoveAll(t => t.IsCompleted);
            _directoryDeletes.Add(task);
        }
    }

    private void StartTimers()
    {
        lock (_backgroundLock)
        {
            if (_shutdown)
            {
                return;
            }

            AddTimer(Config.RetentionCheckIntervalMs, () => RunRetention());
            AddTimer(Config.FlushSchedulerIntervalMs, () => FlushDirtyLogs());
            AddTimer(Math.Min(Config.FlushOffsetCheckpointIntervalMs, Config.FlushStartOffsetCheckpointIntervalMs), CheckpointAll);
            AddTimer(Config.ProducerIdExpirationCheckIntervalMs, () => RemoveExpiredProducers());
            AddTimer(Config.DeleteCheckIntervalMs, () => DeletePendingSegments());
            StartCleaner();
        }
    }

    private void AddTimer(long periodMs, Action job)
    {
        if (periodMs <= 0 || periodMs >= int.MaxValue)
        {
            return; // Kafka's "never" (Long.MaxValue)
        }

        TimeSpan period = TimeSpan.FromMilliseconds(periodMs);
        _timers.Add(_time.CreateTimer(_ => RunJob(job), null, period, period));
    }

    private void RunJob(Action job)
    {
        // Jobs never overlap each other or shutdown.
        lock (_backgroundLock)
        {
            if (_shutdown)
            {
                return;
            }

            try
            {
                job();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Background storage job failed");
            }
        }
    }

}
