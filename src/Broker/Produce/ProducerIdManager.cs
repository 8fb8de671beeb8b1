using System.Diagnostics;
using Broker.Replication.Metadata;

namespace Broker.Produce;

/// <summary>
/// Hands out producer ids (Kafka <c>ProducerIdManager</c>): ids come from blocks of
/// <see cref="BlockSize"/> reserved durably in the metadata store before any id of the block is
/// used, so an id is never handed out twice, across restarts included (ids of a block not used
/// before a restart are skipped, as Kafka does). Thread-safe.
/// </summary>
public sealed class ProducerIdManager(TopicMetadataStore metadata)
{
    /// <summary>Kafka's PRODUCER_ID_BLOCK_SIZE.</summary>
    public const int BlockSize = 1000;

    private readonly object _lock = new();
    private long _next;
    private long _blockEnd;

    /// <summary>A producer id never handed out before.</summary>
    public long GenerateProducerId()
    {
        lock (_lock)
        {
            if (_next >= _blockEnd)
            {
                long start = metadata.AllocateProducerIdBlock(BlockSize);
                _next = start;
                _blockEnd = start + BlockSize;
            }

            Debug.Assert(_next < _blockEnd, "ids come from the current block");
            return _next++;
        }
    }

    /// <summary>Whether the id could have come from this broker's blocks (ids below the current block's end).</summary>
    public bool WasAllocated(long producerId)
    {
        lock (_lock)
        {
            return producerId >= 0 && producerId < Math.Max(_blockEnd, metadata.NextProducerIdBlockStart);
        }
    }
}
