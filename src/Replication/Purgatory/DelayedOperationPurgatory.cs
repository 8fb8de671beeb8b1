using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Broker.Storage;

namespace Broker.Replication.Purgatory;

/// <summary>
/// Holds delayed operations until their condition is met or their deadline passes (Kafka
/// <c>DelayedOperationPurgatory</c>). Operations are watched under one or more
/// <see cref="TopicPartition"/> keys; whoever changes a partition (an append, a high watermark
/// move) calls <see cref="CheckAndComplete"/> for it.
///
/// Timeouts use a single timer from the <see cref="TimeProvider"/> and a priority queue of
/// deadlines (instead of Kafka's hierarchical timing wheel): the timer is armed for the earliest
/// deadline and re-armed after each expiry, so there is no Task.Delay or timer per request.
/// Completed operations are dropped from the queue when they reach its head and from the watcher
/// lists when their key is checked or during a purge (every <see cref="PurgeIntervalRequests"/>
/// completions, as Kafka's purgeInterval).
///
/// Threads: every public method is thread-safe. The timer callback completes operations outside
/// the purgatory's locks.
/// </summary>
public sealed class DelayedOperationPurgatory<T> : IDisposable
    where T : DelayedOperation
{
    private readonly ConcurrentDictionary<TopicPartition, WatcherList> _watchers = new();
    private readonly PriorityQueue<T, long> _deadlines = new();
    private readonly object _queueLock = new();
    private readonly object _timerLock = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _armedDeadlineMs = long.MaxValue;
    private int _completedSincePurge;
    private readonly StrongBox<int> _pending = new();
    private bool _disposed;

    public DelayedOperationPurgatory(string name, TimeProvider? time = null, int purgeIntervalRequests = 1000)
    {
        Name = name;
        PurgeIntervalRequests = purgeIntervalRequests;
        _time = time ?? TimeProvider.System;
        _timer = _time.CreateTimer(static state => ((DelayedOperationPurgatory<T>)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public string Name { get; }

    /// <summary>Completions between two sweeps of completed operations out of the watcher lists.</summary>
    public int PurgeIntervalRequests { get; }

    /// <summary>Operations waiting (not yet completed).</summary>
    public int Delayed => Volatile.Read(ref _pending.Value);

    /// <summary>Watch entries, completed ones not yet swept included (Kafka's PurgatorySize metric).</summary>
    public int Watched
    {
        get
        {
            int count = 0;
            foreach (KeyValuePair<TopicPartition, WatcherList> entry in _watchers)
            {
                count += entry.Value.Count;
            }

            return count;
        }
    }

    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Completes the operation now when it can; otherwise watches it under <paramref name="keys"/>
    /// and schedules its deadline. Returns true when it completed during this call. The condition is
    /// checked again after the operation is watched, so an append that raced with this call is not missed.
    /// </summary>
    public bool TryCompleteElseWatch(T operation, ReadOnlySpan<TopicPartition> keys)
    {
        Debug.Assert(keys.Length > 0, "an operation is watched under at least one key");
        if (operation.TryComplete())
        {
            return true;
        }

        operation.CountWhilePending(_pending); // whoever completes it from here on uncounts it
        foreach (TopicPartition key in keys)
        {
            if (operation.IsCompleted)
            {
                return false; // completed by someone else meanwhile; no need to watch further keys
            }

            Watch(key, operation);
        }

        if (operation.TryComplete())
        {
            return true;
        }

        if (operation.IsCompleted)
        {
            return false;
        }

        Schedule(operation);
        return false;
    }

    /// <summary>
    /// Tries to complete every operation watched under <paramref name="key"/> (Kafka
    /// checkAndComplete). Returns how many completed.
    /// </summary>
    public int CheckAndComplete(TopicPartition key)
    {
        if (!_watchers.TryGetValue(key, out WatcherList? list))
        {
            return 0;
        }

        int completed = list.TryCompleteWatched();
        if (completed > 0)
        {
            NoteCompleted(completed);
        }

        RemoveIfEmpty(key, list);
        return completed;
    }

    private void Watch(TopicPartition key, T operation)
    {
        var spin = default(SpinWait);
        // A list that was emptied and is being removed refuses adds; retry on the next one.
        while (!_watchers.GetOrAdd(key, static _ => new WatcherList()).TryAdd(operation))
        {
            spin.SpinOnce();
        }
    }

    private void RemoveIfEmpty(TopicPartition key, WatcherList list)
    {
        if (list.TryMarkRemoved())
        {
            _watchers.TryRemove(new KeyValuePair<TopicPartition, WatcherList>(key, list));
        }
    }

    /// <summary>Completes all operations at once (shutdown): they answer with what they have.</summary>
    public void CompleteAll()
    {
        foreach (KeyValuePair<TopicPartition, WatcherList> entry in _watchers)
        {
            foreach (T operation in entry.Value.Drain())
            {
                operation.ForceComplete();
            }
        }

        _watchers.Clear();
    }

    public void Dispose()
    {
        lock (_timerLock)
        {
            _disposed = true;
            _timer.Dispose();
        }

        CompleteAll();
    }

    private void Schedule(T operation)
    {
        long deadline = operation.DeadlineMs;
        lock (_queueLock)
        {
            _deadlines.Enqueue(operation, deadline);
        }

        Arm(deadline);
    }

    /// <summary>Points the timer at <paramref name="deadlineMs"/> when that is earlier than where it points now.</summary>
    private void Arm(long deadlineMs)
    {
        lock (_timerLock)
        {
            if (_disposed || deadlineMs >= _armedDeadlineMs)
            {
                return;
            }

            _armedDeadlineMs = deadlineMs;
            // At least 1 ms: a zero due time may run the callback synchronously inside Change.
            long dueMs = Math.Max(1, deadlineMs - NowMs);
            _timer.Change(TimeSpan.FromMilliseconds(Math.Min(dueMs, int.MaxValue - 1)), Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        List<T>? expired = null;
        long next;
        lock (_timerLock)
        {
            _armedDeadlineMs = long.MaxValue;
        }

        long nowMs = NowMs;
        lock (_queueLock)
        {
            while (_deadlines.TryPeek(out T? operation, out long deadline))
            {
                if (operation.IsCompleted)
                {
                    _deadlines.Dequeue(); // completed by its condition earlier
                    continue;
                }

                if (deadline > nowMs)
                {
                    break;
                }

                _deadlines.Dequeue();
                (expired ??= new List<T>()).Add(operation);
            }

            next = _deadlines.TryPeek(out _, out long nextDeadline) ? nextDeadline : long.MaxValue;
        }

        if (next != long.MaxValue)
        {
            Arm(next);
        }

        if (expired is null)
        {
            return;
        }

        int completed = 0;
        foreach (T operation in expired)
        {
            if (operation.ForceComplete())
            {
                completed++;
                operation.OnExpiration();
            }
        }

        if (completed > 0)
        {
            NoteCompleted(completed);
        }
    }

    private void NoteCompleted(int count)
    {
        if (Interlocked.Add(ref _completedSincePurge, count) < PurgeIntervalRequests)
        {
            return;
        }

        Interlocked.Exchange(ref _completedSincePurge, 0);
        foreach (KeyValuePair<TopicPartition, WatcherList> entry in _watchers)
        {
            entry.Value.PurgeCompleted();
            RemoveIfEmpty(entry.Key, entry.Value);
        }

        // Also drop completed operations from the deadline queue so it does not grow with
        // long timeouts while operations complete by their condition.
        lock (_queueLock)
        {
            if (_deadlines.Count > PurgeIntervalRequests)
            {
                var live = new List<(T, long)>(_deadlines.Count);
                foreach ((T operation, long deadline) in _deadlines.UnorderedItems)
                {
                    if (!operation.IsCompleted)
                    {
                        live.Add((operation, deadline));
                    }
                }

                _deadlines.Clear();
                _deadlines.EnqueueRange(live);
            }
        }
    }

    /// <summary>Operations watched under one key, under the list's own lock.</summary>
    private sealed class WatcherList
    {
        private readonly List<T> _operations = new();
        private bool _removed;

        public int Count
        {
            get
            {
                lock (_operations)
                {
                    return _operations.Count;
                }
            }
        }

        /// <summary>False when the list was marked removed: it is leaving the dictionary, use a new one.</summary>
        public bool TryAdd(T operation)
        {
            lock (_operations)
            {
                if (_removed)
                {
                    return false;
                }

                _operations.Add(operation);
                return true;
            }
        }

        public int TryCompleteWatched()
        {
            // Copy out, then check outside the lock: TryComplete builds responses.
            T[] snapshot;
            lock (_operations)
            {
                snapshot = _operations.ToArray();
            }

            int completed = 0;
            foreach (T operation in snapshot)
            {
                if (!operation.IsCompleted && operation.TryComplete())
                {
                    completed++;
                }
            }

            PurgeCompleted();
            return completed;
        }

        public void PurgeCompleted()
        {
            lock (_operations)
            {
                _operations.RemoveAll(static o => o.IsCompleted);
            }
        }

        /// <summary>Marks an empty list removed (it then refuses adds); true when it did.</summary>
        public bool TryMarkRemoved()
        {
            lock (_operations)
            {
                if (_operations.Count == 0 && !_removed)
                {
                    _removed = true;
                    return true;
                }

                return false;
            }
        }

        public List<T> Drain()
        {
            lock (_operations)
            {
                var all = new List<T>(_operations);
                _operations.Clear();
                return all;
            }
        }
    }
}
