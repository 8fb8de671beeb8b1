using System.Runtime.CompilerServices;

namespace Broker.Replication.Purgatory;

/// <summary>
/// A request that waits for a condition (acks=all waits for the high watermark, a fetch long-poll
/// waits for fetch.min.bytes), or for its deadline (Kafka <c>DelayedOperation</c>).
///
/// Life cycle: the purgatory calls <see cref="TryComplete"/> when something the operation watches
/// changed (an append, a high watermark move); the operation checks its condition and, when met,
/// calls <see cref="ForceComplete"/>. At the deadline the purgatory calls <see cref="ForceComplete"/>
/// itself, then <see cref="OnExpiration"/>. <see cref="OnComplete"/> runs exactly once, on whichever
/// thread won the race to complete — so it must be cheap and must not block (it completes a task;
/// a <see cref="DelayedFetch"/> waiter then answers on that thread, so completers hold no lock).
/// </summary>
public abstract class DelayedOperation
{
    private int _completed;
    // The purgatory's count of waiting operations, decremented by whoever completes this one,
    // before OnComplete: completion may run the waiter's continuation inline (DelayedFetch), and
    // by the time the waiter answers, the purgatory must no longer count it as delayed.
    private StrongBox<int>? _pendingCount;

    protected DelayedOperation(long deadlineMs)
    {
        DeadlineMs = deadlineMs;
    }

    /// <summary>Time (TimeProvider milliseconds) at which the operation completes anyway.</summary>
    public long DeadlineMs { get; }

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Checks the condition; when satisfied calls <see cref="ForceComplete"/> and returns its result.</summary>
    public abstract bool TryComplete();

    /// <summary>Completes the operation unless someone else already did; true when this call completed it.</summary>
    public bool ForceComplete()
    {
        if (Interlocked.CompareExchange(ref _completed, 1, 0) != 0)
        {
            return false;
        }

        if (Interlocked.Exchange(ref _pendingCount, null) is { } pending)
        {
            Interlocked.Decrement(ref pending.Value);
        }

        OnComplete();
        return true;
    }

    /// <summary>
    /// Counts this operation in <paramref name="pendingCount"/> until it completes (the purgatory's
    /// Delayed). Called once, before the operation becomes visible to other threads' checks.
    /// </summary>
    internal void CountWhilePending(StrongBox<int> pendingCount)
    {
        Interlocked.Increment(ref pendingCount.Value);
        Volatile.Write(ref _pendingCount, pendingCount);
        if (IsCompleted && Interlocked.Exchange(ref _pendingCount, null) is { } raced)
        {
            Interlocked.Decrement(ref raced.Value); // completed before the count was visible to it
        }
    }

    /// <summary>Builds and releases the response. Runs once.</summary>
    protected abstract void OnComplete();

    /// <summary>Called after a completion caused by the deadline (metrics, logging).</summary>
    public virtual void OnExpiration()
    {
    }
}
