namespace Broker.Replication.Purgatory;

/// <summary>
/// A request that waits for a condition (acks=all waits for the high watermark, a fetch long-poll
/// waits for fetch.min.bytes), or for its deadline (Kafka <c>DelayedOperation</c>).
///
/// Life cycle: the purgatory calls <see cref="TryComplete"/> when something the operation watches
/// changed (an append, a high watermark move); the operation checks its condition and, when met,
/// calls <see cref="ForceComplete"/>. At the deadline the purgatory calls <see cref="ForceComplete"/>
/// itself, then <see cref="OnExpiration"/>. <see cref="OnComplete"/> runs exactly once, on whichever
/// thread won the race to complete — so it must be cheap and must not block (it completes a task).
/// </summary>
public abstract class DelayedOperation
{
    private int _completed;

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

        OnComplete();
        return true;
    }

    /// <summary>Builds and releases the response. Runs once.</summary>
    protected abstract void OnComplete();

    /// <summary>Called after a completion caused by the deadline (metrics, logging).</summary>
    public virtual void OnExpiration()
    {
    }
}
