using System.Buffers.Binary;
using Broker.Protocol.Records;

namespace Broker.Storage.Tests;

/// <summary>Builds valid uncompressed magic v2 batches by hand (no builder in Protocol yet).</summary>
internal static class TestBatches
{
    /// <summary>One batch of <paramref name="recordCount"/> records with values of <paramref name="valueBytes"/> bytes.</summary>
    public static byte[] Create(
        int recordCount,
        int valueBytes = 16,
        long baseTimestamp = 1_700_000_000_000,
        long producerId = -1,
        short producerEpoch = -1,
        int baseSequence = -1,
        bool transactional = false,
        byte fill = 0xAB)
    {
        var records = new List<byte[]>(recordCount);
        for (int i = 0; i < recordCount; i++)
        {
            records.Add(EncodeRecord(offsetDelta: i, timestampDelta: i, valueBytes, fill));
        }

        int recordsSize = 0;
        foreach (byte[] r in records)
        {
            recordsSize += r.Length;
        }

        byte[] batch = new byte[RecordBatchHeader.HeaderSize + recordsSize];
        Span<byte> span = batch;
        BinaryPrimitives.WriteInt64BigEndian(span, 0);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.BatchLengthOffset), batch.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.PartitionLeaderEpochOffset), -1);
        span[RecordBatchHeader.MagicOffset] = RecordBatchHeader.MagicV2;
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(RecordBatchHeader.AttributesOffset), transactional ? RecordBatchHeader.TransactionalFlagMask : (short)0);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.LastOffsetDeltaOffset), recordCount - 1);
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(RecordBatchHeader.BaseTimestampOffset), baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(RecordBatchHeader.MaxTimestampOffset), baseTimestamp + recordCount - 1);
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(RecordBatchHeader.ProducerIdOffset), producerId);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(RecordBatchHeader.ProducerEpochOffset), producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.BaseSequenceOffset), baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.RecordCountOffset), recordCount);
        int p = RecordBatchHeader.HeaderSize;
        foreach (byte[] r in records)
        {
            r.CopyTo(span.Slice(p));
            p += r.Length;
        }

        RecordBatchHeader.UpdateCrc(span);
        return batch;
    }

    /// <summary>Concatenates batches into one append.</summary>
    public static byte[] Concat(params byte[][] batches)
    {
        int total = 0;
        foreach (byte[] b in batches)
        {
            total += b.Length;
        }

        byte[] result = new byte[total];
        int p = 0;
        foreach (byte[] b in batches)
        {
            b.CopyTo(result, p);
            p += b.Length;
        }

        return result;
    }

    /// <summary>(base offset, last offset) of every batch in a byte run, checking each CRC.</summary>
    public static List<(long BaseOffset, long LastOffset, long MaxTimestamp)> Parse(ReadOnlySpan<byte> bytes)
    {
        var result = new List<(long, long, long)>();
        int p = 0;
        while (p < bytes.Length)
        {
            var header = new RecordBatchHeader(bytes.Slice(p));
            Assert.True(header.SizeInBytes <= bytes.Length - p, "whole batches only");
            Assert.True(new RecordBatchHeader(bytes.Slice(p, header.SizeInBytes)).IsCrcValid, $"CRC of batch at {p}");
            result.Add((header.BaseOffset, header.LastOffset, header.MaxTimestamp));
            p += header.SizeInBytes;
        }

        return result;
    }

    private static byte[] EncodeRecord(int offsetDelta, long timestampDelta, int valueBytes, byte fill)
    {
        var body = new List<byte>();
        body.Add(0); // attributes
        WriteVarLong(body, timestampDelta);
        WriteVarLong(body, offsetDelta);
        WriteVarLong(body, -1); // null key
        WriteVarLong(body, valueBytes);
        for (int i = 0; i < valueBytes; i++)
        {
            body.Add(fill);
        }

        WriteVarLong(body, 0); // headers
        var record = new List<byte>();
        WriteVarLong(record, body.Count);
        record.AddRange(body);
        return record.ToArray();
    }

    private static void WriteVarLong(List<byte> output, long value)
    {
        ulong zigzag = (ulong)((value << 1) ^ (value >> 63));
        while ((zigzag & ~0x7FUL) != 0)
        {
            output.Add((byte)((zigzag & 0x7F) | 0x80));
            zigzag >>= 7;
        }

        output.Add((byte)zigzag);
    }
}

/// <summary>A temp directory removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "storage-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
