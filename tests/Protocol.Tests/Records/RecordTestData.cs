using System.Buffers.Binary;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Protocol.Tests.Records;

/// <summary>Builds batches for tests; each returns a plain array the test may tamper with.</summary>
internal static class RecordTestData
{
    public const long BaseTimestamp = 1_700_000_000_000;

    public static byte[] BuildBatch(
        CompressionType compression = CompressionType.None,
        int recordCount = 3,
        long producerId = -1,
        short producerEpoch = -1,
        int baseSequence = -1,
        bool isTransactional = false,
        int valueBytes = 10)
    {
        using var builder = new RecordBatchBuilder(compression, producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence, isTransactional: isTransactional);
        for (int i = 0; i < recordCount; i++)
        {
            byte[] value = new byte[valueBytes];
            value.AsSpan().Fill((byte)('a' + (i % 26)));
            builder.Append(BaseTimestamp + i, System.Text.Encoding.UTF8.GetBytes($"key-{i}"), value);
        }

        using PooledBufferWriter batch = builder.Build();
        return batch.WrittenSpan.ToArray();
    }

    public static void SetInt32(byte[] batch, int offset, int value, bool updateCrc = true)
    {
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(offset), value);
        if (updateCrc)
        {
            RecordBatchHeader.UpdateCrc(batch);
        }
    }

    /// <summary>A legacy message entry (magic 0 or 1) with a correct CRC-32.</summary>
    public static byte[] LegacyMessage(byte magic, long offset, byte[]? key, byte[]? value, long timestamp = -1, byte attributes = 0)
    {
        int size = (magic == 0 ? 14 : 22) + (key?.Length ?? 0) + (value?.Length ?? 0);
        byte[] entry = new byte[12 + size];
        var span = entry.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, offset);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(8), size);
        span[16] = magic;
        span[17] = attributes;
        int p = 18;
        if (magic == 1)
        {
            BinaryPrimitives.WriteInt64BigEndian(span.Slice(p), timestamp);
            p += 8;
        }

        BinaryPrimitives.WriteInt32BigEndian(span.Slice(p), key is null ? -1 : key.Length);
        p += 4;
        key?.CopyTo(span.Slice(p));
        p += key?.Length ?? 0;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(p), value is null ? -1 : value.Length);
        p += 4;
        value?.CopyTo(span.Slice(p));
        BinaryPrimitives.WriteUInt32BigEndian(span.Slice(12), Crc32Ieee.Compute(span.Slice(16)));
        return entry;
    }

    public static byte[] Compress(CompressionType type, ReadOnlySpan<byte> data)
    {
        using var output = new PooledBufferWriter();
        CompressionCodecs.Get(type).Compress(data, output);
        return output.WrittenSpan.ToArray();
    }
}
