using System.Buffers.Binary;
using System.Diagnostics;

namespace Broker.Storage.Index;

/// <summary>
/// Kafka's sparse offset index (<c>&lt;base offset&gt;.index</c>): 8-byte entries, big-endian
/// <c>int32 relativeOffset, int32 position</c>, where relativeOffset = batch last offset - segment
/// base offset and position is the byte position of that batch in the <c>.log</c> file. An entry
/// is added roughly every index.interval.bytes (Kafka <c>OffsetIndex</c>, <c>LogSegment.append</c>).
/// Offsets strictly increase and positions never decrease. Lookups are binary searches over the
/// entries, allocation-free.
/// </summary>
internal sealed class OffsetIndex : IndexFile
{
    public const int Size = 8;

    public OffsetIndex(string filePath, long baseOffset, int maxIndexBytes)
        : base(filePath, baseOffset, maxIndexBytes)
    {
    }

    public override int EntrySize => Size;

    /// <summary>The last indexed offset, or the base offset when the index is empty.</summary>
    public long LastOffset
    {
        get
        {
            ReadOnlySpan<byte> entries = EntryBytes;
            return entries.Length == 0 ? BaseOffset : BaseOffset + ReadRelativeOffset(entries, (entries.Length / Size) - 1);
        }
    }

    /// <summary>The last entry's position, or 0 when empty.</summary>
    public int LastPosition
    {
        get
        {
            ReadOnlySpan<byte> entries = EntryBytes;
            return entries.Length == 0 ? 0 : ReadPosition(entries, (entries.Length / Size) - 1);
        }
    }

    /// <summary>Appends (lastOffset of a batch, its position). Offsets must strictly increase.</summary>
    public void Append(long offset, int position)
    {
        long relative = offset - BaseOffset;
        Debug.Assert(relative >= 0 && relative <= int.MaxValue, "relative offset fits an int (the segment rolls before it would not)");
        Debug.Assert(Entries == 0 || offset > LastOffset, "index offsets strictly increase");
        Debug.Assert(Entries == 0 || position >= LastPosition, "index positions never decrease");
        Span<byte> entry = stackalloc byte[Size];
        BinaryPrimitives.WriteInt32BigEndian(entry, (int)relative);
        BinaryPrimitives.WriteInt32BigEndian(entry.Slice(4), position);
        AppendEntryBytes(entry);
    }

    /// <summary>
    /// The entry with the largest offset &lt;= <paramref name="targetOffset"/>, or (base offset, 0)
    /// when there is none: the position to start a forward scan from.
    /// </summary>
    public (long Offset, int Position) Lookup(long targetOffset)
    {
        ReadOnlySpan<byte> entries = EntryBytes;
        long relativeTarget = targetOffset - BaseOffset;
        int slot = relativeTarget < 0 ? -1 : LargestLowerBound(entries, relativeTarget > int.MaxValue ? int.MaxValue : (int)relativeTarget);
        if (slot < 0)
        {
            return (BaseOffset, 0);
        }

        return (BaseOffset + ReadRelativeOffset(entries, slot), ReadPosition(entries, slot));
    }

    /// <summary>
    /// The entry with the largest position &lt;= <paramref name="targetPosition"/>, or (base offset, 0):
    /// used to bound a read by bytes without scanning every batch.
    /// </summary>
    public (long Offset, int Position) LookupByPosition(int targetPosition)
    {
        ReadOnlySpan<byte> entries = EntryBytes;
        int lo = 0;
        int hi = (entries.Length / Size) - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (ReadPosition(entries, mid) <= targetPosition)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? (BaseOffset, 0) : (BaseOffset + ReadRelativeOffset(entries, found), ReadPosition(entries, found));
    }

    /// <summary>Removes entries for offsets &gt;= <paramref name="offset"/> (truncation).</summary>
    public void TruncateTo(long offset)
    {
        ReadOnlySpan<byte> entries = EntryBytes;
        long relative = offset - BaseOffset;
        int keep = relative <= 0 ? 0 : LargestLowerBound(entries, relative > int.MaxValue ? int.MaxValue : (int)(relative - 1)) + 1;
        TruncateToEntries(keep);
    }

    protected override bool IsConsistent(ReadOnlySpan<byte> entries, long segmentSizeBytes)
    {
        int count = entries.Length / Size;
        int previousOffset = -1;
        int previousPosition = 0;
        for (int i = 0; i < count; i++)
        {
            int relative = ReadRelativeOffset(entries, i);
            int position = ReadPosition(entries, i);
            if (relative <= previousOffset || position < previousPosition || position >= segmentSizeBytes)
            {
                return false;
            }

            previousOffset = relative;
            previousPosition = position;
        }

        return true;
    }

    private static int LargestLowerBound(ReadOnlySpan<byte> entries, int relativeTarget)
    {
        int lo = 0;
        int hi = (entries.Length / Size) - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (ReadRelativeOffset(entries, mid) <= relativeTarget)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    private static int ReadRelativeOffset(ReadOnlySpan<byte> entries, int slot) =>
        BinaryPrimitives.ReadInt32BigEndian(entries.Slice(slot * Size));

    private static int ReadPosition(ReadOnlySpan<byte> entries, int slot) =>
        BinaryPrimitives.ReadInt32BigEndian(entries.Slice((slot * Size) + 4));
}
