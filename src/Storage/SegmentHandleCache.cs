using System.Diagnostics;

namespace Broker.Storage;

/// <summary>
/// Bounds the open files of sealed segments (our extension, <c>log.segment.open.handles.max</c>;
/// Apache Kafka keeps every segment's file open and its indexes mapped and relies on the OS
/// limit on open files). A sealed segment opens its <c>.log</c> file and loads its indexes on
/// first use; when more than <see cref="Capacity"/> sealed segments are open, the least recently
/// used idle one is closed and its indexes dropped from memory (CLOCK / second chance: a use only
/// sets a bit on the segment, so reads never take this cache's lock unless they open a file).
///
/// A segment with a lease (a read in progress, or a <see cref="FileRecords"/> region not yet sent)
/// is never closed: it is skipped and closed when it is idle again and the cache is still over
/// its capacity. The bound is therefore <see cref="Capacity"/> plus the segments leased at the
/// same moment. Active segments are pinned and never counted.
///
/// Threads: every method is thread-safe. Lock order: this cache, then a segment's lock; a segment
/// never calls into the cache while holding its own lock.
/// </summary>
public sealed class SegmentHandleCache
{
    /// <summary>Default for log.segment.open.handles.max.</summary>
    public const int DefaultCapacity = 1024;

    private readonly object _lock = new();
    private readonly LinkedList<LogSegment> _ring = new();
    private LinkedListNode<LogSegment>? _hand;
    private int _count;
    private long _evictions;

    public SegmentHandleCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Sealed segments allowed open at once (while idle).</summary>
    public int Capacity { get; }

    /// <summary>Sealed segments currently tracked as open.</summary>
    public int OpenSegments => Volatile.Read(ref _count);

    /// <summary>How many segments were closed to stay within <see cref="Capacity"/>.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>A sealed segment has just opened its file (or an open segment was sealed).</summary>
    internal void Add(LogSegment segment)
    {
        lock (_lock)
        {
            if (segment.CacheNode is null)
            {
                // Insert behind the hand, so that the new entry is the last one the hand reaches.
                segment.CacheNode = _hand is null ? _ring.AddLast(segment) : _ring.AddBefore(_hand, segment);
                _count = _ring.Count;
            }

            EvictWhileOverCapacity();
        }
    }

    /// <summary>The segment was pinned (became active again) or disposed.</summary>
    internal void Remove(LogSegment segment)
    {
        lock (_lock)
        {
            Unlink(segment);
        }
    }

    /// <summary>Called when a lease ends on a cache that is over capacity (leases held off eviction).</summary>
    internal void TrimIfOverCapacity()
    {
        if (Volatile.Read(ref _count) <= Capacity)
        {
            return;
        }

        lock (_lock)
        {
            EvictWhileOverCapacity();
        }
    }

    private void EvictWhileOverCapacity()
    {
        // Two sweeps at most: the first clears the "recently used" bits, the second finds an idle
        // segment if there is one. Leased segments are skipped, so this never waits for a reader.
        int budget = 2 * _ring.Count;
        while (_ring.Count > Capacity && budget-- > 0)
        {
            LinkedListNode<LogSegment> node = _hand ?? _ring.First!;
            _hand = node.Next ?? _ring.First;
            LogSegment segment = node.Value;
            switch (segment.TryCloseIdle())
            {
                case CloseResult.Closed:
                    _evictions++;
                    Unlink(segment);
                    break;
                case CloseResult.NotOpen:
                    Unlink(segment);
                    break;
                case CloseResult.InUse:
                    break;
            }
        }

        _count = _ring.Count;
    }

    private void Unlink(LogSegment segment)
    {
        LinkedListNode<LogSegment>? node = segment.CacheNode;
        if (node is null)
        {
            return;
        }

        Debug.Assert(node.List == _ring, "a segment belongs to one cache");
        if (_hand == node)
        {
            _hand = node.Next;
        }

        _ring.Remove(node);
        segment.CacheNode = null;
        if (_ring.Count == 0)
        {
            _hand = null;
        }

        _count = _ring.Count;
    }

    /// <summary>What <see cref="LogSegment.TryCloseIdle"/> did.</summary>
    internal enum CloseResult
    {
        /// <summary>The file was closed and the indexes dropped.</summary>
        Closed,

        /// <summary>Leased, or used since the hand last passed (its second chance): left open.</summary>
        InUse,

        /// <summary>Already closed, pinned or disposed: it should not be in the cache.</summary>
        NotOpen,
    }
}
