using System.Text;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using Record = Broker.Protocol.Records.Record;

namespace Broker.Protocol.Tests.Records;

public class RecordRoundTripTests
{
    public static TheoryData<CompressionType> AllCodecs => new()
    {
        CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd,
    };

    [Theory]
    [MemberData(nameof(AllCodecs))]
    public void BuilderValidatorAndIteratorAgree(CompressionType compression)
    {
        const int count = 500;
        var random = new Random(42);
        byte[][] values = new byte[count][];
        using var builder = new RecordBatchBuilder(compression, producerId: 1234, producerEpoch: 5, baseSequence: 100);
        for (int i = 0; i < count; i++)
        {
            // Every third key and every fifth value null; values up to 300 bytes so that
            // compressed batches span several codec blocks for the bigger cases.
            byte[]? key = i % 3 == 0 ? null : Encoding.UTF8.GetBytes($"k{i}");
            values[i] = new byte[random.Next(0, 300)];
            random.NextBytes(values[i]);
            byte[]? value = i % 5 == 0 ? null : values[i];
            RecordHeaderData[] headers = i % 2 == 0
                ? [new RecordHeaderData("trace-id", Encoding.UTF8.GetBytes($"t{i}")), new RecordHeaderData("empty", null)]
                : [];
            builder.Append(RecordTestData.BaseTimestamp + (i * 7 % 1000), key, value, headers);
        }

        using PooledBufferWriter built = builder.Build();
        ReadOnlySpan<byte> batch = built.WrittenSpan;

        var infos = new List<RecordBatchInfo>();
        ErrorCode error = RecordBatchValidator.Validate(batch, new RecordValidationOptions(), infos, out RecordValidationFailure failure);
        Assert.True(error == ErrorCode.None, failure.Message);
        RecordBatchInfo info = Assert.Single(infos);
        Assert.Equal(count, info.RecordCount);
        Assert.Equal(0, info.FirstOffsetDelta);
        Assert.Equal(count - 1, info.LastOffsetDelta);
        long expectedMax = 0;
        for (int i = 0; i < count; i++)
        {
            expectedMax = Math.Max(expectedMax, i * 7 % 1000);
        }

        Assert.Equal(RecordTestData.BaseTimestamp + expectedMax, info.MaxTimestamp);
        Assert.Equal(1234, info.ProducerId);
        Assert.Equal((short)5, info.ProducerEpoch);
        Assert.Equal(100, info.BaseSequence);
        Assert.Equal(compression, info.CompressionType);
        Assert.Equal(batch.Length, info.SizeInBytes);
        Assert.False(info.IsTransactional);
        Assert.False(info.IsControl);

        var header = new RecordBatchHeader(batch);
        Assert.Equal(info.MaxTimestamp, header.MaxTimestamp);
        Assert.Equal(RecordTestData.BaseTimestamp, header.BaseTimestamp);

        using var decompressed = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Get(compression).Decompress(batch.Slice(RecordBatchHeader.RecordsOffset), decompressed, 1 << 24));
        int index = 0;
        var records = new RecordEnumerator(decompressed.WrittenSpan);
        foreach (Record record in records)
        {
            Assert.Equal(index, record.OffsetDelta);
            Assert.Equal(RecordTestData.BaseTimestamp + (index * 7 % 1000), record.Timestamp(header.BaseTimestamp));
            Assert.Equal(index % 3 == 0, record.IsKeyNull);
            if (!record.IsKeyNull)
            {
                Assert.Equal($"k{index}", Encoding.UTF8.GetString(record.Key));
            }

            Assert.Equal(index % 5 == 0, record.IsValueNull);
            if (!record.IsValueNull)
            {
                Assert.True(record.Value.SequenceEqual(values[index]));
            }

            Assert.Equal(index % 2 == 0 ? 2 : 0, record.HeaderCount);
            int h = 0;
            foreach (RecordHeader recordHeader in record.Headers)
            {
                if (h == 0)
                {
                    Assert.Equal("trace-id", Encoding.UTF8.GetString(recordHeader.Key));
                    Assert.Equal($"t{index}", Encoding.UTF8.GetString(recordHeader.Value));
                    Assert.False(recordHeader.IsValueNull);
                }
                else
                {
                    Assert.Equal("empty", Encoding.UTF8.GetString(recordHeader.Key));
                    Assert.True(recordHeader.IsValueNull);
                }

                h++;
            }

            Assert.Equal(record.HeaderCount, h);
            index++;
        }

        Assert.Equal(count, index);
    }

    [Fact]
    public void EndTxnMarkerIsATransactionalControlBatch()
    {
        using PooledBufferWriter marker = RecordBatchBuilder.BuildEndTxnMarker(producerId: 9, producerEpoch: 2, coordinatorEpoch: 11, commit: true, timestamp: 5000, baseOffset: 40);
        var header = new RecordBatchHeader(marker.WrittenSpan);
        Assert.True(header.IsControl);
        Assert.True(header.IsTransactional);
        Assert.Equal(40, header.BaseOffset);
        Assert.Equal(1, header.RecordCount);
        Assert.Equal(-1, header.BaseSequence);

        // Replicated/internal data may hold control batches; clients may not send them.
        var infos = new List<RecordBatchInfo>();
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(marker.WrittenSpan, new RecordValidationOptions { FromClient = false }, infos, out _));
        Assert.True(infos[0].IsControl);
        Assert.Equal(ErrorCode.InvalidRecord, RecordBatchValidator.Validate(marker.WrittenSpan, new RecordValidationOptions(), null, out _));

        var records = RecordEnumerator.ForBatch(marker.WrittenSpan);
        Assert.True(records.MoveNext());
        Record record = records.Current;
        // Key: version 0, type 1 (commit); value: version 0, coordinator epoch 11.
        Assert.Equal(new byte[] { 0, 0, 0, 1 }, record.Key.ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 11 }, record.Value.ToArray());
        Assert.False(records.MoveNext());
        Assert.False(records.Failed);
    }

    [Fact]
    public void BatchEnumeratorSplitsConsecutiveBatchesAndStopsBeforeAPartialOne()
    {
        byte[] a = RecordTestData.BuildBatch(recordCount: 2);
        byte[] b = RecordTestData.BuildBatch(CompressionType.Zstd, recordCount: 5);
        byte[] buffer = [.. a, .. b, .. b.AsSpan(0, 30)];

        var batches = new RecordBatchEnumerator(buffer);
        Assert.True(batches.MoveNext());
        Assert.Equal(0, batches.CurrentPosition);
        Assert.Equal(a.Length, batches.Current.Length);
        Assert.Equal(2, batches.CurrentMagic);
        Assert.True(batches.MoveNext());
        Assert.Equal(a.Length, batches.CurrentPosition);
        Assert.Equal(5, new RecordBatchHeader(batches.Current).RecordCount);
        Assert.False(batches.MoveNext());
        Assert.False(batches.Failed);
        Assert.Equal(30, batches.RemainingBytes);
    }

    [Fact]
    public void IteratingAnUncompressedBatchAllocatesNothing()
    {
        byte[] batch = RecordTestData.BuildBatch(recordCount: 200);
        static long Sum(byte[] batch)
        {
            long sum = 0;
            foreach (Record record in RecordEnumerator.ForBatch(batch))
            {
                sum += record.Value.Length + record.OffsetDelta;
                foreach (RecordHeader header in record.Headers)
                {
                    sum += header.Key.Length;
                }
            }

            return sum;
        }

        Sum(batch); // JIT warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = Sum(batch);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(200 * 10 + (199 * 200 / 2), total);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void ValidatingAnUncompressedBatchAllocatesNothing()
    {
        byte[] batch = RecordTestData.BuildBatch(recordCount: 200);
        var options = new RecordValidationOptions();
        RecordBatchValidator.Validate(batch, options, null, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ErrorCode error = RecordBatchValidator.Validate(batch, options, null, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(ErrorCode.None, error);
        Assert.Equal(0, allocated);
    }
}
