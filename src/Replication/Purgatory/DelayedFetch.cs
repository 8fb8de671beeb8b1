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
///
/// The completion runs its continuation synchronously: the waiting handler re-reads, builds its
/// response and hands it to its connection's send loop on the thread that completed the fetch
/// (the append's, the timer's), as Kafka's onComplete reads the log on the thread that completed
/// it. Queueing the continuation to the thread pool instead cost a hop per woken fetch that a
/// busy 2-core pool delayed by 0.3-6 ms under the end-to-end load. Whoever completes a fetch
/// must therefore hold no lock (the purgatory completes operations outside its locks).
/// </summary>
public sealed class DelayedFetch(long deadlineMs, IDelayedFetchCondition condition) : DelayedOperation(deadlineMs)
{
    private readonly TaskCompletionSource _completion = new();

    /// <summary>Completes when the fetch should answer (condition met, deadline passed or shutdown).</summary>
    public Task Completion => _completion.Task;

    public override bool TryComplete() => condition.IsSatisfied() && ForceComplete();

    protected override void OnComplete() => _completion.TrySetResult();
}
