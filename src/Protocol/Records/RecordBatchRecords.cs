using Broker.Protocol.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// Access to a v2 batch's records section whatever its compression, for code that reads
/// records (coordinators replaying internal topics, compaction, down-conversion):
/// <code>
/// using var scratch = new PooledBufferWriter();
/// if (RecordBatchRecords.TryGetRecords(batch, scratch, max, out var records) == ErrorCode.None)
///     foreach (Record record in new RecordEnumerator(records)) { ... }
/// </code>
/// </summary>
public static class RecordBatchRecords
{
    /// <summary>
    /// The uncompressed records of a whole v2 batch: a slice of <paramref name="batch"/> when it
    /// is not compressed, else the bytes decompressed into <paramref name="scratch"/> (which
    /// must stay alive while the records are used). CORRUPT_MESSAGE for a truncated batch, an
    /// unknown codec, bad compressed data or more than <paramref name="maxDecompressedBytes"/>.
    /// </summary>
    public static ErrorCode TryGetRecords(
        ReadOnlySpan<byte> batch,
        PooledBufferWriter scratch,
        int maxDecompressedBytes,
        out ReadOnlySpan<byte> records)
    {
        records = default;
        if (!RecordBatchHeader.TryRead(batch, out RecordBatchHeader header)
            || header.Magic != RecordBatchHeader.MagicV2
            || header.SizeInBytes < RecordBatchHeader.HeaderSize
            || header.SizeInBytes > batch.Length)
        {
            return ErrorCode.CorruptMessage;
        }

        ReadOnlySpan<byte> section = batch.Slice(RecordBatchHeader.RecordsOffset, header.SizeInBytes - RecordBatchHeader.RecordsOffset);
        CompressionType compression = header.CompressionType;
        if (compression == CompressionType.None)
        {
            records = section;
            return ErrorCode.None;
        }

        if (!CompressionCodecs.TryGet(compression, out ICompressionCodec codec))
        {
            return ErrorCode.CorruptMessage;
        }

        scratch.Clear();
        ErrorCode error = codec.Decompress(section, scratch, maxDecompressedBytes);
        if (error != ErrorCode.None)
        {
            return error;
        }

        records = scratch.WrittenSpan;
        return ErrorCode.None;
    }
}
