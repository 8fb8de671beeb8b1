using Microsoft.Extensions.Logging;

namespace Broker.Storage;

/// <summary>
/// The log cleaner (Kafka <c>LogCleaner</c>): every log.cleaner.backoff.ms, each compacted log whose
/// dirty ratio exceeds its min.cleanable.dirty.ratio gets one pass. One pass at a time, on its own
/// timer and lock, so a long pass never delays retention, flushes or checkpoints; shutdown waits
/// for the pass in progress. Where each log was cleaned up to is kept in every log dir's
/// <c>cleaner-offset-checkpoint</c>, as Kafka does.
/// </summary>
public sealed partial class LogManager
{
    private readonly object _cleanerLock = new();

    /// <summary>One cleaner pass over every log that needs it. Returns the records removed.</summary>
    public int RunCleaner()
    {
        lock (_cleanerLock)
        {
            if (Volatile.Read(ref _shutdown))
            {
                return 0;
            }

            int removed = 0;
            foreach (PartitionLog log in _logs.Values)
            {
                if (!log.Config.Compact || log.DirtyRatio <= log.Config.MinCleanableDirtyRatio)
                {
                    continue;
                }

                try
                {
                    removed += log.Clean();
                }
                catch (ObjectDisposedException)
                {
                    // Deleted or closed during the pass: nothing to clean any more.
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A log deleted during the pass (its directory renamed) is not a failing disk.
                    if (_logs.TryGetValue(log.TopicPartition, out PartitionLog? current) && ReferenceEquals(current, log))
                    {
                        MarkOffline(log.TopicPartition, e);
                    }
                }
            }

            return removed;
        }
    }

    private void StartCleaner()
    {
        if (!Config.CleanerEnable || Config.CleanerBackoffMs <= 0 || Config.CleanerBackoffMs >= int.MaxValue)
        {
            return;
        }

        TimeSpan period = TimeSpan.FromMilliseconds(Config.CleanerBackoffMs);
        _timers.Add(_time.CreateTimer(_ => RunCleanerJob(), null, period, period));
    }

    private void RunCleanerJob()
    {
        if (!Monitor.TryEnter(_cleanerLock))
        {
            return; // the previous pass is still running: skip this tick rather than queue behind it
        }

        try
        {
            RunCleaner();
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Log cleaner pass failed");
        }
        finally
        {
            Monitor.Exit(_cleanerLock);
        }
    }

    /// <summary>Waits for a cleaner pass in progress (after <c>_shutdown</c> is set, no new one starts).</summary>
    private void WaitForCleaner()
    {
        lock (_cleanerLock)
        {
        }
    }
}
