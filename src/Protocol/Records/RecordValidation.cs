using Broker.Protocol.Compression;

namespace Broker.Protocol.Records;

/// <summary>What the broker needs to know about one validated batch (or legacy wrapper message).</summary>
public readonly record struct RecordBatchInfo(
    int Position,
    int SizeInBytes,
    byte Magic,
    CompressionType CompressionType,
    TimestampType TimestampType,
    long BaseOffset,
    int RecordCount,
    int FirstOffsetDelta,
    int LastOffsetDelta,
    long BaseTimestamp,
    long MaxTimestamp,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    bool IsTransactional,
    bool IsControl)
{
    public bool HasProducerId => ProducerId >= 0;
}

/// <summary>Where validation failed, for the produce response's error message and record errors (KIP-467).</summary>
public readonly record struct RecordValidationFailure(int BatchIndex, int RecordIndex, string Message)
{
    public static readonly RecordValidationFailure None = new(-1, -1, string.Empty);
}

/// <summary>
/// Limits and rules for <see cref="RecordBatchValidator"/>. Defaults suit a client produce of
/// the current protocol.
/// </summary>
public readonly record struct RecordValidationOptions
{
    /// <summary>The default bound on a compressed batch's decompressed size.</summary>
    public const int DefaultMaxDecompressedBytes = 64 * 1024 * 1024;

    public RecordValidationOptions()
    {
    }

    /// <summary>A compressed batch decompressing to more is CORRUPT_MESSAGE (bomb protection).</summary>
    public int MaxDecompressedBytes { get; init; } = DefaultMaxDecompressedBytes;

    /// <summary>max.message.bytes: a bigger batch is MESSAGE_TOO_LARGE.</summary>
    public int MaxBatchBytes { get; init; } = int.MaxValue;

    /// <summary>Produce v3+ (KIP-98): only magic v2 batches; older magic is INVALID_RECORD, as ProduceRequest.validateRecords does.</summary>
    public bool RequireMagicV2 { get; init; } = true;

    /// <summary>Produce v3+: exactly one batch per partition (INVALID_RECORD otherwise).</summary>
    public bool RequireSingleBatch { get; init; } = true;

    /// <summary>Zstd needs produce v7+ (KIP-110); UNSUPPORTED_COMPRESSION_TYPE below.</summary>
    public bool AllowZstd { get; init; } = true;

    /// <summary>
    /// Client-originated data (Kafka AppendOrigin.CLIENT): base offset must be 0, no control
    /// batches, offset deltas dense 0..n-1. Replicated or internal data may have gaps from compaction.
    /// </summary>
    public bool FromClient { get; init; } = true;

    /// <summary>Compacted topics reject records without a key (CORRUPT_MESSAGE, as Kafka).</summary>
    public bool RequireKeys { get; init; }

    /// <summary>
    /// CreateTime records with a timestamp below this are INVALID_TIMESTAMP
    /// (now - message.timestamp.before.max.ms, KIP-937). long.MinValue disables the check.
    /// </summary>
    public long MinTimestamp { get; init; } = long.MinValue;

    /// <summary>CreateTime records above this are INVALID_TIMESTAMP (now + message.timestamp.after.max.ms).</summary>
    public long MaxTimestamp { get; init; } = long.MaxValue;

    /// <summary>
    /// Options for a client produce request at <paramref name="apiVersion"/>. Timestamp bounds
    /// are applied when <paramref name="nowMs"/> is given, from the topic's
    /// message.timestamp.before.max.ms and message.timestamp.after.max.ms.
    /// </summary>
    public static RecordValidationOptions ForProduce(
        short apiVersion,
        int maxMessageBytes,
        bool compactedTopic,
        long? nowMs = null,
        long timestampBeforeMaxMs = long.MaxValue,
        long timestampAfterMaxMs = long.MaxValue) => new()
    {
        MinTimestamp = nowMs is long now && timestampBeforeMaxMs < long.MaxValue ? now - timestampBeforeMaxMs : long.MinValue,
        MaxTimestamp = nowMs is long now2 && timestampAfterMaxMs < long.MaxValue ? now2 + timestampAfterMaxMs : long.MaxValue,
        RequireMagicV2 = apiVersion >= 3,
        RequireSingleBatch = apiVersion >= 3,
        AllowZstd = apiVersion >= 7,
        MaxBatchBytes = maxMessageBytes,
        RequireKeys = compactedTopic,
        FromClient = true,
    };
}
