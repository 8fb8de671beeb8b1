using System.Diagnostics;
using System.Numerics;

namespace Broker.LoadTool;

/// <summary>
/// Log-linear latency histogram in microseconds, in the manner of HdrHistogram: values below
/// <see cref="SubBucketCount"/> get one bucket each; above that every power-of-two range is
/// split into <see cref="HalfCount"/> equal buckets, so any recorded value is known to within
/// 1/128 (0.8 %). All storage is allocated up front; <see cref="Record"/> never allocates.
///
/// Threading: one writer (the thread that calls Record, e.g. the producer's delivery-report
/// thread). Readers of percentiles must run after the writer has stopped (or accept a
/// slightly torn view for progress lines); counts are read with Volatile for that reason.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 8;
    private const int SubBucketCount = 1 << SubBucketBits;   // 256 exact buckets: 0..255 us
    private const int HalfCount = SubBucketCount / 2;        // buckets per power of two above
    private const int MaxShift = 40;                         // values up to 2^47 us (4 years)

    private readonly long[] _counts = new long[SubBucketCount + MaxShift * HalfCount];
    private long _count;
    private long _sumMicros;
    private long _maxMicros;

    public long Count => Volatile.Read(ref _count);
    public long MaxMicros => Volatile.Read(ref _maxMicros);
    public long SumMicros => Volatile.Read(ref _sumMicros);
    public double MeanMicros => Count == 0 ? 0 : (double)Volatile.Read(ref _sumMicros) / Count;

    public void Record(long micros)
    {
        if (micros < 0) micros = 0; // clocks are monotonic, but never index out of range
        var index = IndexOf(micros);
        _counts[index]++;
        _sumMicros += micros;
        if (micros > _maxMicros) _maxMicros = micros;
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>Value (us) at the given quantile (0..1]: the upper edge of the bucket that holds it.</summary>
    public long ValueAtQuantile(double quantile)
    {
        Debug.Assert(quantile > 0 && quantile <= 1);
        var total = Count;
        if (total == 0) return 0;
        // Same rank rule as Kafka's ProducerPerformance: the element at floor(q * n).
        var rank = Math.Min(total - 1, (long)(quantile * total));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen > rank) return Math.Min(UpperEdge(i), MaxMicros);
        }
        return MaxMicros;
    }

    public void Reset()
    {
        Array.Clear(_counts);
        _count = 0; _sumMicros = 0; _maxMicros = 0;
    }

    private static int IndexOf(long value)
    {
        if (value < SubBucketCount) return (int)value;
        var msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = msb - (SubBucketBits - 1);               // >= 1
        if (shift > MaxShift) return SubBucketCount + MaxShift * HalfCount - 1;
        var top = (int)(value >> shift);                      // in [HalfCount, SubBucketCount)
        Debug.Assert(top >= HalfCount && top < SubBucketCount);
        return SubBucketCount + (shift - 1) * HalfCount + (top - HalfCount);
    }

    private static long UpperEdge(int index)
    {
        if (index < SubBucketCount) return index;
        var shift = (index - SubBucketCount) / HalfCount + 1;
        var top = (long)((index - SubBucketCount) % HalfCount + HalfCount);
        return ((top + 1) << shift) - 1;
    }
}
