using System.Buffers.Binary;
using Broker.Protocol.Records;

namespace Broker.Storage;

/// <summary>
/// Walks the records of an uncompressed v2 batch far enough to read each record's timestamp
/// delta and offset delta (record: varint length, int8 attributes, varlong timestampDelta,
/// varint offsetDelta, ...), for ListOffsets by timestamp. Compressed batches are answered at
/// batch granularity by the caller.
/// </summary>
internal static class RecordTimestamps
{
    /// <summary>Offset of the first record with timestamp &gt;= <paramref name="target"/>; the batch's base offset if the records cannot be parsed.</summary>
    public static long FirstOffsetAtOrAfter(ReadOnlySpan<byte> batch, long target, long fallback)
    {
        if (batch.Length < RecordBatchHeader.HeaderSize)
        {
            return fallback;
        }

        var header = new RecordBatchHeader(batch);
        long baseOffset = header.BaseOffset;
        long baseTimestamp = header.BaseTimestamp;
        int count = header.RecordCount;
        int p = RecordBatchHeader.HeaderSize;
        for (int i = 0; i < count; i++)
        {
            if (!TryReadVarLong(batch, ref p, out long length) || length < 0 || p + length > batch.Length)
            {
                return fallback;
            }

            int recordEnd = p + (int)length;
            p++; // attributes
            if (!TryReadVarLong(batch, ref p, out long timestampDelta) || !TryReadVarLong(batch, ref p, out long offsetDelta))
            {
                return fallback;
            }

            if (baseTimestamp + timestampDelta >= target)
            {
                return baseOffset + offsetDelta;
            }

            p = recordEnd;
        }

        return fallback;
    }

    private static bool TryReadVarLong(ReadOnlySpan<byte> data, ref int position, out long value)
    {
        ulong raw = 0;
        int shift = 0;
        while (position < data.Length && shift < 64)
        {
            byte b = data[position++];
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                value = (long)(raw >> 1) ^ -(long)(raw & 1);
                return true;
            }

            shift += 7;
        }

        value = 0;
        return false;
    }
}
