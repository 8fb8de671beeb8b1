namespace Broker.Replication.Purgatory;

/// <summary>What a waiting fetch checks when a partition it reads changes.</summary>
public interface IDelayedFetchCondition
{
    /// <summary>
    /// True when the fetch should answer now (Kafka DelayedFetch.tryComplete): enough bytes
    /// (fetch.min.bytes) are readable, or a partition's state changed in a way the client must
    /// hear about (deleted, leadership or epoch changed, fetch offset out of range).
    /// </summary>
    bool IsSatisfied();
}

/// <summary>
/// A fetch long-poll (fetch.min.bytes / max_wait_ms) waiting in the purgatory, watched under
/// each partition it reads; appends wake it. It only signals: the handler reads the partitions
/// again once <see cref="Completion"/> is done, as Kafka's DelayedFetch.onComplete re-reads.
/// </summary>
public sealed class DelayedFetch(long deadlineMs, IDelayedFetchCondition condition) : DelayedOperation(deadlineMs)
{
    private readonly TaskCompletionSource<bool> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _expired;

    /// <summary>Completes when the fetch should answer; the result is true when the wait timed out.</summary>
    public Task<bool> Completion => _completion.Task;

    public override bool TryComplete() => condition.IsSatisfied() && ForceComplete();

    public override void OnExpiration() => _expired = true;

    protected override void OnComplete()
    {
        // OnExpiration runs after ForceComplete; expiry is judged from the deadline instead.
        _completion.TrySetResult(_expired);
    }
}
