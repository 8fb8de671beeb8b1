using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Coordinator.Group;

/// <summary>
/// Turns an operation's records into one v2 record batch for __consumer_offsets, and batches read
/// back from the log into records (skipping control batches; compressed batches, which Kafka
/// writes when offsets.topic.compression.codec is set, are decompressed).
/// </summary>
public static class CoordinatorRecordCodec
{
    private const int MaxDecompressedBytes = 64 * 1024 * 1024;

    /// <summary>One uncompressed batch holding the records in order; the caller owns (disposes) the buffer.</summary>
    public static PooledBufferWriter EncodeBatch(IReadOnlyList<GroupRecord> records, long timestampMs)
    {
        using var builder = new RecordBatchBuilder();
        foreach (var record in records)
        {
            var (key, value) = GroupRecordSerde.Serialize(record);
            builder.Append(timestampMs, key, value);
        }
        return builder.Build();
    }

    /// <summary>Decodes every whole batch in the buffer; returns the offset after the last record seen (or -1).</summary>
    public static long DecodeBatches(ReadOnlySpan<byte> batches, List<GroupRecord> output)
    {
        long nextOffset = -1;
        foreach (var batch in new RecordBatchEnumerator(batches))
        {
            if (batch.Length < RecordBatchHeader.HeaderSize || batch[RecordBatchHeader.MagicOffset] != RecordBatchHeader.MagicV2)
                throw new InvalidDataException("__consumer_offsets holds a batch that is not magic v2");
            var header = new RecordBatchHeader(batch);
            nextOffset = header.BaseOffset + header.LastOffsetDelta + 1;
            if (header.IsControl) continue; // transaction markers: no group records
            if (header.CompressionType == CompressionType.None)
            {
                DecodeRecords(RecordEnumerator.ForBatch(batch), output);
            }
            else
            {
                using var decompressed = new PooledBufferWriter(batch.Length * 4);
                var error = CompressionCodecs.Get(header.CompressionType)
                    .Decompress(batch.Slice(RecordBatchHeader.RecordsOffset), decompressed, MaxDecompressedBytes);
                if (error != Broker.Protocol.ErrorCode.None) throw new InvalidDataException($"Cannot decompress a __consumer_offsets batch: {error}");
                DecodeRecords(new RecordEnumerator(decompressed.WrittenSpan), output);
            }
        }
        return nextOffset;
    }

    private static void DecodeRecords(RecordEnumerator records, List<GroupRecord> output)
    {
        while (records.MoveNext())
        {
            var record = records.Current;
            if (record.IsKeyNull) continue;
            var decoded = GroupRecordSerde.Deserialize(record.Key.ToArray(), record.IsValueNull ? null : record.Value.ToArray());
            if (decoded is not null) output.Add(decoded);
        }
        if (records.Failed) throw new InvalidDataException("Malformed record in __consumer_offsets");
    }
}
