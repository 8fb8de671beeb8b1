using System.Buffers.Binary;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Produce;

/// <summary>
/// Rewrites a validated v2 batch with another codec when the topic's compression.type is not
/// "producer" and differs from the batch's (Kafka LogValidator's "recompression" path). The
/// records section is decompressed and compressed again; the header keeps every field but the
/// codec bits, the batch length and the CRC. Producer id, epoch and sequences are kept, so
/// idempotence still works on the recompressed batch.
/// </summary>
internal static class BatchRecompressor
{
    /// <summary>
    /// Recompresses every batch in <paramref name="batches"/> into a new pooled buffer the caller
    /// owns; CORRUPT_MESSAGE when a batch cannot be decompressed.
    /// </summary>
    public static ErrorCode Recompress(ReadOnlySpan<byte> batches, CompressionType target, int maxDecompressedBytes, out PooledBufferWriter? output)
    {
        output = new PooledBufferWriter(batches.Length + 64);
        using var scratch = new PooledBufferWriter();
        int position = 0;
        while (position < batches.Length)
        {
            if (!RecordBatchHeader.TryRead(batches.Slice(position), out RecordBatchHeader header))
            {
                output.Dispose();
                output = null;
                return ErrorCode.CorruptMessage;
            }

            int size = header.SizeInBytes;
            ReadOnlySpan<byte> batch = batches.Slice(position, size);
            scratch.Clear();
            ErrorCode error = RecordBatchRecords.TryGetRecords(batch, scratch, maxDecompressedBytes, out ReadOnlySpan<byte> records);
            if (error != ErrorCode.None)
            {
                output.Dispose();
                output = null;
                return error;
            }

            int start = output.WrittenCount;
            batch.Slice(0, RecordBatchHeader.HeaderSize).CopyTo(output.GetSpan(RecordBatchHeader.HeaderSize));
            output.Advance(RecordBatchHeader.HeaderSize);
            CompressionCodecs.Get(target).Compress(records, output);
            Span<byte> written = output.WrittenSpanMutable.Slice(start);
            BinaryPrimitives.WriteInt32BigEndian(written.Slice(RecordBatchHeader.BatchLengthOffset), written.Length - RecordBatchHeader.LogOverhead);
            short attributes = BinaryPrimitives.ReadInt16BigEndian(written.Slice(RecordBatchHeader.AttributesOffset));
            attributes = (short)((attributes & ~RecordBatchHeader.CompressionCodecMask) | (byte)target);
            BinaryPrimitives.WriteInt16BigEndian(written.Slice(RecordBatchHeader.AttributesOffset), attributes);
            RecordBatchHeader.UpdateCrc(written);
            position += size;
        }

        return ErrorCode.None;
    }
}
