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
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the fetch should answer (condition met, deadline passed or shutdown).</summary>
    public Task Completion => _completion.Task;

    public override bool TryComplete() => condition.IsSatisfied() && ForceComplete();

    protected override void OnComplete() => _completion.TrySetResult();
}
