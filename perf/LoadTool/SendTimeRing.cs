using System.Diagnostics;

namespace Broker.LoadTool;

/// <summary>
/// Send times (Stopwatch ticks) of the records in flight to one partition, oldest first.
/// librdkafka reports deliveries of one partition in the order the records were produced
/// (they sit in one ordered queue per partition), so the delivery report for a partition
/// belongs to the oldest entry here. This lets the delivery handler find a record's send time
/// without a per-record callback object or state passed through librdkafka's opaque.
///
/// Threading: single producer (the send loop: Push/Retract), single consumer (the delivery
/// report thread: Pop). Capacity must be at least the producer's in-flight limit.
/// </summary>
internal sealed class SendTimeRing
{
    private readonly long[] _ticks;
    private readonly int _mask;
    private long _head; // next to pop, written by the consumer only
    private long _tail; // next to push, written by the producer only

    public SendTimeRing(int capacity)
    {
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 2));
        _ticks = new long[size];
        _mask = size - 1;
    }

    /// <summary>Publishes the entry before the record is handed to librdkafka, so a delivery
    /// report can never arrive for a record whose send time is not yet visible.</summary>
    public void Push(long ticks)
    {
        var tail = _tail;
        if (tail - Volatile.Read(ref _head) >= _ticks.Length)
            throw new InvalidOperationException("more records in flight than the ring holds");
        _ticks[tail & _mask] = ticks;
        Volatile.Write(ref _tail, tail + 1);
    }

    /// <summary>Undoes the last Push when librdkafka refused the record (no report will come).
    /// Safe because the consumer pops only on a report, and there is none for this entry.</summary>
    public void Retract()
    {
        Debug.Assert(_tail > Volatile.Read(ref _head));
        Volatile.Write(ref _tail, _tail - 1);
    }

    /// <summary>Returns the oldest send time, or -1 if there is none (an invariant breach:
    /// a delivery report without a pushed record).</summary>
    public long Pop()
    {
        var head = _head;
        if (head >= Volatile.Read(ref _tail)) return -1;
        var ticks = _ticks[head & _mask];
        Volatile.Write(ref _head, head + 1);
        return ticks;
    }
}
