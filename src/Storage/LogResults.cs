using Broker.Protocol;

namespace Broker.Storage;

/// <summary>
/// Result of <see cref="PartitionLog.Append"/> (Kafka <c>LogAppendInfo</c>). On a duplicate
/// (a retried idempotent batch) nothing was written and the offsets are the original ones.
/// </summary>
public readonly record struct LogAppendInfo(
    ErrorCode Error,
    long FirstOffset,
    long LastOffset,
    long MaxTimestamp,
    long OffsetOfMaxTimestamp,
    long LogAppendTimeMs,
    long LogStartOffset,
    int RecordCount,
    int ValidBytes,
    bool IsDuplicate)
{
    public static LogAppendInfo Failed(ErrorCode error, long logStartOffset) =>
        new(error, -1, -1, -1, -1, -1, logStartOffset, 0, 0, false);
}

/// <summary>
/// Result of <see cref="PartitionLog.Read"/>: OFFSET_OUT_OF_RANGE, or whole batches as a file
/// region (null when there is nothing to return), plus the offsets a fetch response carries.
/// </summary>
public readonly record struct LogReadResult(
    ErrorCode Error,
    FileRecords? Records,
    long FirstBatchOffset,
    long HighWatermark,
    long LogStartOffset,
    long LogEndOffset)
{
    public int SizeInBytes => Records?.SizeInBytes ?? 0;
}

/// <summary>ListOffsets answer: offset, timestamp of that batch and the leader epoch it was written in (-1 unknown).</summary>
public readonly record struct TimestampAndOffset(long Timestamp, long Offset, int LeaderEpoch);
