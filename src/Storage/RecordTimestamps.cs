using Broker.Protocol;
using Broker.Protocol.Records;

namespace Broker.Storage;

/// <summary>
/// Record-level answers for ListOffsets by timestamp, which Kafka gives per record, not per
/// batch (LogSegment.findOffsetByTimestamp, RecordBatch.offsetOfMaxTimestamp): compressed
/// batches are decompressed into a caller-owned scratch buffer, uncompressed ones are walked in
/// place. In a LogAppendTime batch every record carries the batch's max timestamp, as Kafka's
/// record iterator reports it. Not a hot path: ListOffsets, one batch per call.
/// </summary>
internal static class RecordTimestamps
{
    /// <summary>Largest decompressed batch we inflate for a lookup (guards against a decompression bomb on disk).</summary>
    public const int MaxDecompressedBytes = 256 * 1024 * 1024;

    /// <summary>
    /// The first record with timestamp &gt;= <paramref name="target"/> and offset &gt;=
    /// <paramref name="startingOffset"/>. False when no record qualifies or the batch cannot be decoded.
    /// </summary>
    public static bool TryFindFirstAtOrAfter(ReadOnlySpan<byte> batch, long target, long startingOffset, PooledBufferWriter scratch, out long timestamp, out long offset)
    {
        timestamp = -1;
        offset = -1;
        if (!TryGetRecords(batch, scratch, out RecordBatchHeader header, out ReadOnlySpan<byte> records))
        {
            return false;
        }

        bool logAppendTime = header.TimestampType == TimestampType.LogAppendTime;
        foreach (Record record in new RecordEnumerator(records))
        {
            long recordTimestamp = logAppendTime ? header.MaxTimestamp : record.Timestamp(header.BaseTimestamp);
            long recordOffset = record.Offset(header.BaseOffset);
            if (recordTimestamp >= target && recordOffset >= startingOffset)
            {
                timestamp = recordTimestamp;
                offset = recordOffset;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The offset of the first record whose timestamp equals the batch's max timestamp (Kafka
    /// answers MAX_TIMESTAMP with the earliest such record). False when the batch cannot be decoded.
    /// </summary>
    public static bool TryFindOffsetOfMaxTimestamp(ReadOnlySpan<byte> batch, PooledBufferWriter scratch, out long offset)
    {
        offset = -1;
        if (!TryGetRecords(batch, scratch, out RecordBatchHeader header, out ReadOnlySpan<byte> records))
        {
            return false;
        }

        bool logAppendTime = header.TimestampType == TimestampType.LogAppendTime;
        foreach (Record record in new RecordEnumerator(records))
        {
            if (logAppendTime || record.Timestamp(header.BaseTimestamp) == header.MaxTimestamp)
            {
                offset = record.Offset(header.BaseOffset);
                return true;
            }
        }

        return false;
    }

    private static bool TryGetRecords(ReadOnlySpan<byte> batch, PooledBufferWriter scratch, out RecordBatchHeader header, out ReadOnlySpan<byte> records)
    {
        records = default;
        if (!RecordBatchHeader.TryRead(batch, out header))
        {
            return false;
        }

        return RecordBatchRecords.TryGetRecords(batch, scratch, MaxDecompressedBytes, out records) == ErrorCode.None;
    }
}
