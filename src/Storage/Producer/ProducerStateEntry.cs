using System.Diagnostics;

namespace Broker.Storage.Producer;

/// <summary>Sequence range and offsets of one appended idempotent batch (Kafka <c>BatchMetadata</c>).</summary>
public readonly record struct ProducerBatch(int FirstSequence, int LastSequence, long FirstOffset, long LastOffset);

/// <summary>
/// What the log knows about one producer id (Kafka <c>ProducerStateEntry</c>): its epoch and the
/// last <see cref="MaxCachedBatches"/> batches it appended, so that a retried batch (same epoch,
/// same first and last sequence) is answered with the offsets it got the first time instead of
/// being written twice. Mutated only by the partition writer.
/// </summary>
public sealed class ProducerStateEntry
{
    /// <summary>Kafka keeps the metadata of the last 5 batches (max.in.flight.requests.per.connection for idempotence).</summary>
    public const int MaxCachedBatches = 5;

    private readonly ProducerBatch[] _batches = new ProducerBatch[MaxCachedBatches];
    private int _count;
    private int _next;

    public ProducerStateEntry(long producerId, short producerEpoch)
    {
        ProducerId = producerId;
        ProducerEpoch = producerEpoch;
    }

    public long ProducerId { get; }

    public short ProducerEpoch { get; private set; }

    /// <summary>Max timestamp of the producer's last batch (for producer id expiration).</summary>
    public long LastTimestamp { get; internal set; } = -1;

    /// <summary>Epoch of the transaction coordinator that wrote the last marker (-1 none).</summary>
    public int CoordinatorEpoch { get; internal set; } = -1;

    /// <summary>First offset of the producer's open transaction, or -1 (for the last stable offset).</summary>
    public long CurrentTxnFirstOffset { get; internal set; } = -1;

    public int BatchCount => _count;

    /// <summary>Last sequence appended under the current epoch, or -1 (Kafka NO_SEQUENCE).</summary>
    public int LastSequence => _count == 0 ? -1 : Newest.LastSequence;

    public long LastOffset => _count == 0 ? -1 : Newest.LastOffset;

    private ProducerBatch Newest => _batches[(_next + MaxCachedBatches - 1) % MaxCachedBatches];

    /// <summary>Cached batches, oldest first.</summary>
    public IEnumerable<ProducerBatch> Batches
    {
        get
        {
            for (int i = 0; i < _count; i++)
            {
                yield return _batches[(_next - _count + i + (2 * MaxCachedBatches)) % MaxCachedBatches];
            }
        }
    }

    /// <summary>The cached batch with exactly this sequence range, if any (Kafka findDuplicateBatch).</summary>
    public bool TryFindDuplicate(short producerEpoch, int firstSequence, int lastSequence, out ProducerBatch batch)
    {
        if (producerEpoch == ProducerEpoch)
        {
            for (int i = 0; i < _count; i++)
            {
                ProducerBatch candidate = _batches[i];
                if (candidate.FirstSequence == firstSequence && candidate.LastSequence == lastSequence)
                {
                    batch = candidate;
                    return true;
                }
            }
        }

        batch = default;
        return false;
    }

    /// <summary>Records an appended batch; a new epoch forgets the previous epoch's batches.</summary>
    public void Add(short producerEpoch, ProducerBatch batch, long timestamp)
    {
        if (producerEpoch != ProducerEpoch)
        {
            Debug.Assert(producerEpoch > ProducerEpoch || ProducerEpoch == short.MaxValue, "producer epochs increase (checked before append)");
            ProducerEpoch = producerEpoch;
            _count = 0;
            _next = 0;
        }

        if (batch.FirstSequence >= 0)
        {
            _batches[_next] = batch;
            _next = (_next + 1) % MaxCachedBatches;
            _count = Math.Min(_count + 1, MaxCachedBatches);
        }

        LastTimestamp = Math.Max(LastTimestamp, timestamp);
    }

    /// <summary>Sets the epoch without a data batch (a control marker or a snapshot load).</summary>
    internal void SetEpoch(short producerEpoch)
    {
        if (producerEpoch != ProducerEpoch)
        {
            ProducerEpoch = producerEpoch;
            _count = 0;
            _next = 0;
        }
    }
}
