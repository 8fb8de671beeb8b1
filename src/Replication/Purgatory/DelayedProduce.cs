using Broker.Protocol;

namespace Broker.Replication.Purgatory;

/// <summary>
/// Produce with acks=all waiting until the high watermark of every partition it wrote reaches the
/// end of what it wrote (Kafka <c>DelayedProduce</c>). Partitions that failed the append are done
/// from the start. At the deadline the partitions still waiting answer REQUEST_TIMED_OUT.
/// On a single node the high watermark moves with each append, so this completes at once; the
/// operation exists so that replication only has to move the high watermark later.
/// </summary>
public sealed class DelayedProduce : DelayedOperation
{
    private readonly Partition?[] _partitions;
    private readonly long[] _requiredOffsets;
    private readonly ErrorCode[] _errors;
    private readonly bool[] _acked;
    private readonly TaskCompletionSource<ErrorCode[]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="deadlineMs">When to give up (now + the request's timeout_ms).</param>
    /// <param name="partitions">The partition of each entry (null: the append already failed).</param>
    /// <param name="requiredOffsets">Log end offset after each entry's append (the high watermark to wait for).</param>
    /// <param name="errors">Each entry's append error; None entries wait.</param>
    public DelayedProduce(long deadlineMs, Partition?[] partitions, long[] requiredOffsets, ErrorCode[] errors)
        : base(deadlineMs)
    {
        if (partitions.Length != requiredOffsets.Length || partitions.Length != errors.Length)
        {
            throw new ArgumentException("One required offset and one error per partition.");
        }

        _partitions = partitions;
        _requiredOffsets = requiredOffsets;
        _errors = errors;
        _acked = new bool[partitions.Length];
        for (int i = 0; i < partitions.Length; i++)
        {
            _acked[i] = errors[i] != ErrorCode.None || partitions[i] is null;
        }
    }

    /// <summary>Completes with each entry's final error (None, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND, ...).</summary>
    public Task<ErrorCode[]> Completion => _completion.Task;

    public override bool TryComplete()
    {
        bool all = true;
        lock (_acked)
        {
            for (int i = 0; i < _partitions.Length; i++)
            {
                if (_acked[i])
                {
                    continue;
                }

                (bool done, ErrorCode error) = _partitions[i]!.CheckEnoughReplicasReachOffset(_requiredOffsets[i]);
                if (done)
                {
                    _acked[i] = true;
                    _errors[i] = error;
                }
                else
                {
                    all = false;
                }
            }
        }

        return all && ForceComplete();
    }

    protected override void OnComplete()
    {
        lock (_acked)
        {
            for (int i = 0; i < _acked.Length; i++)
            {
                if (!_acked[i])
                {
                    _errors[i] = ErrorCode.RequestTimedOut;
                }
            }
        }

        _completion.TrySetResult(_errors);
    }
}
