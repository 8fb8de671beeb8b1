using System.Buffers.Binary;
using System.Diagnostics;

namespace Broker.Storage.Index;

/// <summary>
/// Kafka's time index (<c>&lt;base offset&gt;.timeindex</c>): 12-byte entries, big-endian
/// <c>int64 timestamp, int32 relativeOffset</c>. An entry (T, O) says: the largest timestamp
/// among batches up to offset O is T. Entries are only added when the timestamp grows, so both
/// columns are non-decreasing (Kafka <c>TimeIndex.maybeAppend</c>). When a segment is sealed
/// the final (max timestamp, offset) is appended even if the index is full, so the last entry
/// gives the segment's largest timestamp for retention.ms.
/// </summary>
internal sealed class TimeIndex : IndexFile
{
    public const int Size = 12;

    public TimeIndex(string filePath, long baseOffset, int maxIndexBytes)
        : base(filePath, baseOffset, maxIndexBytes)
    {
    }

    public override int EntrySize => Size;

    /// <summary>The last entry, or (-1, base offset) when empty (Kafka RecordBatch.NO_TIMESTAMP).</summary>
    public (long Timestamp, long Offset) LastEntry
    {
        get
        {
            ReadOnlySpan<byte> entries = EntryBytes;
            if (entries.Length == 0)
            {
                return (-1, BaseOffset);
            }

            int slot = (entries.Length / Size) - 1;
            return (ReadTimestamp(entries, slot), BaseOffset + ReadRelativeOffset(entries, slot));
        }
    }

    /// <summary>Appends (timestamp, offset) when the timestamp is larger than the last one.</summary>
    public void MaybeAppend(long timestamp, long offset, bool skipFullCheck = false)
    {
        if (!skipFullCheck && IsFull)
        {
            return;
        }

        (long lastTimestamp, long lastOffset) = LastEntry;
        if (Entries > 0 && timestamp <= lastTimestamp)
        {
            return;
        }

        Debug.Assert(Entries == 0 || offset >= lastOffset, "time index offsets never decrease");
        if (IsFull)
        {
            return; // the full check was skipped but there is no room: keep the file within bounds
        }

        Span<byte> entry = stackalloc byte[Size];
        BinaryPrimitives.WriteInt64BigEndian(entry, timestamp);
        BinaryPrimitives.WriteInt32BigEndian(entry.Slice(8), (int)(offset - BaseOffset));
        AppendEntryBytes(entry);
    }

    /// <summary>
    /// The offset to start scanning from to find the first batch whose max timestamp is
    /// &gt;= <paramref name="targetTimestamp"/>: the entry with the largest timestamp strictly
    /// below the target (every batch before it is older), else the base offset.
    /// </summary>
    public long LookupStartOffset(long targetTimestamp)
    {
        ReadOnlySpan<byte> entries = EntryBytes;
        int lo = 0;
        int hi = (entries.Length / Size) - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (ReadTimestamp(entries, mid) < targetTimestamp)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? BaseOffset : BaseOffset + ReadRelativeOffset(entries, found);
    }

    /// <summary>Removes entries for offsets &gt;= <paramref name="offset"/>.</summary>
    public void TruncateTo(long offset)
    {
        ReadOnlySpan<byte> entries = EntryBytes;
        int count = entries.Length / Size;
        int keep = count;
        while (keep > 0 && BaseOffset + ReadRelativeOffset(entries, keep - 1) >= offset)
        {
            keep--;
        }

        TruncateToEntries(keep);
    }

    protected override bool IsConsistent(ReadOnlySpan<byte> entries, long segmentSizeBytes)
    {
        int count = entries.Length / Size;
        long previousTimestamp = long.MinValue;
        int previousOffset = 0;
        for (int i = 0; i < count; i++)
        {
            long timestamp = ReadTimestamp(entries, i);
            int relative = ReadRelativeOffset(entries, i);
            if (timestamp < previousTimestamp || relative < previousOffset)
            {
                return false;
            }

            previousTimestamp = timestamp;
            previousOffset = relative;
        }

        return true;
    }

    private static long ReadTimestamp(ReadOnlySpan<byte> entries, int slot) =>
        BinaryPrimitives.ReadInt64BigEndian(entries.Slice(slot * Size));

    private static int ReadRelativeOffset(ReadOnlySpan<byte> entries, int slot) =>
        BinaryPrimitives.ReadInt32BigEndian(entries.Slice((slot * Size) + 8));
}
