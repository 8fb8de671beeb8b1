using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

/// <summary>
/// The single-threaded executor of one coordinator shard (Kafka's CoordinatorRuntime runs each
/// __consumer_offsets partition's state machine on one event-processor thread at a time).
/// Work items run strictly one after another in submission order, including their awaited log
/// appends, so shard state needs no locks: only code running on this executor may touch it.
/// </summary>
internal sealed class ShardExecutor
{
    private readonly Channel<Func<ValueTask>> _queue =
        Channel.CreateUnbounded<Func<ValueTask>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _logger;
    private readonly Task _loop;

    public ShardExecutor(ILogger logger)
    {
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public Task<T> SubmitAsync<T>(Func<ValueTask<T>> operation)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool queued = _queue.Writer.TryWrite(async () =>
        {
            try { completion.TrySetResult(await operation().ConfigureAwait(false)); }
            catch (Exception ex) { completion.TrySetException(ex); }
        });
        if (!queued) completion.TrySetException(new ObjectDisposedException(nameof(ShardExecutor)));
        return completion.Task;
    }

    /// <summary>Queues work whose outcome nobody awaits (timer expiries); failures are logged.</summary>
    public void Post(Func<ValueTask> operation) => _queue.Writer.TryWrite(operation);

    /// <summary>Completes once everything queued before this call has run (tests, shutdown).</summary>
    public Task DrainAsync() => SubmitAsync(static () => ValueTask.FromResult(true));

    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        await foreach (var work in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try { await work().ConfigureAwait(false); }
            catch (Exception ex) { _logger.LogError(ex, "Coordinator shard operation failed"); }
        }
    }
}

/// <summary>
/// Keyed timers of one shard (Kafka's CoordinatorTimer): scheduling a key again replaces the
/// previous timer, and an expiry runs on the shard's executor only if its timer is still the
/// current one for the key. Backed by TimeProvider timers, so tests drive time with a fake clock;
/// no Task.Delay per member. Must only be called from the shard's executor.
/// </summary>
internal sealed class CoordinatorTimer
{
    private readonly Dictionary<string, Entry> _timers = new();
    private readonly TimeProvider _time;
    private readonly ShardExecutor _executor;

    public CoordinatorTimer(TimeProvider time, ShardExecutor executor)
    {
        _time = time;
        _executor = executor;
    }

    public int Count => _timers.Count;

    public bool IsScheduled(string key) => _timers.ContainsKey(key);

    public void Schedule(string key, long delayMs, Func<ValueTask> operation)
    {
        Cancel(key);
        var entry = new Entry(this, key, operation);
        _timers[key] = entry;
        if (delayMs <= 0)
            Fire(entry);
        else
            entry.Timer = _time.CreateTimer(static state => { var e = (Entry)state!; e.Owner.Fire(e); }, entry,
                TimeSpan.FromMilliseconds(delayMs), Timeout.InfiniteTimeSpan);
    }

    public void Cancel(string key)
    {
        if (_timers.Remove(key, out var entry))
            entry.Timer?.Dispose();
    }

    public void CancelAll()
    {
        foreach (var entry in _timers.Values) entry.Timer?.Dispose();
        _timers.Clear();
    }

    private void Fire(Entry entry) => _executor.Post(() =>
    {
        if (!_timers.TryGetValue(entry.Key, out var current) || !ReferenceEquals(current, entry))
            return ValueTask.CompletedTask; // cancelled or replaced after it fired
        _timers.Remove(entry.Key);
        entry.Timer?.Dispose();
        return entry.Operation();
    });

    private sealed class Entry(CoordinatorTimer owner, string key, Func<ValueTask> operation)
    {
        public CoordinatorTimer Owner { get; } = owner;
        public string Key { get; } = key;
        public Func<ValueTask> Operation { get; } = operation;
        public ITimer? Timer { get; set; }
    }
}
