using System.Text;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using Record = Broker.Protocol.Records.Record;

namespace Broker.Protocol.Tests.Records;

public class LegacyMessageSetTests
{
    private static readonly RecordValidationOptions LegacyOptions = new() { RequireMagicV2 = false, RequireSingleBatch = false, FromClient = false };

    [Fact]
    public void Crc32IeeeCheckValue()
    {
        Assert.Equal(0xCBF43926u, Crc32Ieee.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void ReadsUncompressedMessages(byte magic)
    {
        byte[] set = [
            .. RecordTestData.LegacyMessage(magic, 10, Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("v1"), timestamp: 100),
            .. RecordTestData.LegacyMessage(magic, 11, null, null, timestamp: 200),
        ];

        int count = 0;
        foreach (LegacyMessage message in new LegacyMessageEnumerator(set))
        {
            Assert.True(message.IsCrcValid);
            Assert.Equal(magic, message.Magic);
            Assert.Equal(10 + count, message.Offset);
            Assert.Equal(count == 1, message.IsKeyNull);
            Assert.Equal(count == 1, message.IsValueNull);
            Assert.Equal(magic == 0 ? -1 : 100 * (count + 1), message.Timestamp);
            count++;
        }

        Assert.Equal(2, count);
        var infos = new List<RecordBatchInfo>();
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(set, LegacyOptions, infos, out _));
        Assert.Equal(2, infos.Count);
        Assert.Equal(magic, infos[0].Magic);
    }

    [Fact]
    public void BadLegacyCrcIsCorruptMessage()
    {
        byte[] message = RecordTestData.LegacyMessage(1, 0, [1], [2, 3], timestamp: 5);
        message[^1] ^= 0xFF;
        Assert.Equal(ErrorCode.CorruptMessage, RecordBatchValidator.Validate(message, LegacyOptions, null, out _));
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    public void CompressedMagic1WrapperValidatesAndConvertsToV2(CompressionType compression)
    {
        // KIP-31: inner offsets are relative (0..n-1); the wrapper has the last absolute offset.
        byte[] inner = [
            .. RecordTestData.LegacyMessage(1, 0, Encoding.UTF8.GetBytes("a"), Encoding.UTF8.GetBytes("one"), timestamp: 1000),
            .. RecordTestData.LegacyMessage(1, 1, null, Encoding.UTF8.GetBytes("two"), timestamp: 1003),
            .. RecordTestData.LegacyMessage(1, 2, Encoding.UTF8.GetBytes("c"), null, timestamp: 1001),
        ];
        byte[] wrapper = RecordTestData.LegacyMessage(1, 52, null, RecordTestData.Compress(compression, inner), timestamp: 1003, attributes: (byte)compression);

        var infos = new List<RecordBatchInfo>();
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(wrapper, LegacyOptions, infos, out _));
        Assert.Equal(3, infos[0].RecordCount);
        Assert.Equal(1003, infos[0].MaxTimestamp);
        Assert.Equal(compression, infos[0].CompressionType);

        Assert.Equal(ErrorCode.None, LegacyMessageSet.ConvertToV2(wrapper, CompressionType.Zstd, 1 << 20, out PooledBufferWriter? converted));
        using PooledBufferWriter batch = converted!;
        var header = new RecordBatchHeader(batch.WrittenSpan);
        Assert.Equal(50, header.BaseOffset);
        Assert.Equal(52, header.LastOffset);
        Assert.Equal(1000, header.BaseTimestamp);
        Assert.Equal(1003, header.MaxTimestamp);
        Assert.Equal(CompressionType.Zstd, header.CompressionType);
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(batch.WrittenSpan, new RecordValidationOptions { FromClient = false }, null, out _));

        using var records = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Zstd.Decompress(batch.WrittenSpan.Slice(RecordBatchHeader.RecordsOffset), records, 1 << 20));
        var values = new List<string?>();
        foreach (Record record in new RecordEnumerator(records.WrittenSpan))
        {
            values.Add(record.IsValueNull ? null : Encoding.UTF8.GetString(record.Value));
        }

        Assert.Equal(new string?[] { "one", "two", null }, values);
    }

    [Fact]
    public void Magic0ConversionKeepsOffsetGapsAndHasNoTimestamps()
    {
        byte[] set = [
            .. RecordTestData.LegacyMessage(0, 7, [1], [1]),
            .. RecordTestData.LegacyMessage(0, 9, [2], [2]),
        ];
        Assert.Equal(ErrorCode.None, LegacyMessageSet.ConvertToV2(set, CompressionType.None, 1 << 20, out PooledBufferWriter? converted));
        using PooledBufferWriter batch = converted!;
        var header = new RecordBatchHeader(batch.WrittenSpan);
        Assert.Equal(7, header.BaseOffset);
        Assert.Equal(2, header.LastOffsetDelta);
        Assert.Equal(2, header.RecordCount);
        Assert.Equal(-1, header.MaxTimestamp);
        var deltas = new List<int>();
        foreach (Record record in RecordEnumerator.ForBatch(batch.WrittenSpan))
        {
            deltas.Add(record.OffsetDelta);
        }

        Assert.Equal(new[] { 0, 2 }, deltas);
    }

    [Fact]
    public void NestedCompressionIsCorruptMessage()
    {
        byte[] innermost = RecordTestData.LegacyMessage(1, 0, null, [1], timestamp: 1);
        byte[] middle = RecordTestData.LegacyMessage(1, 0, null, RecordTestData.Compress(CompressionType.Gzip, innermost), timestamp: 1, attributes: 1);
        byte[] outer = RecordTestData.LegacyMessage(1, 0, null, RecordTestData.Compress(CompressionType.Gzip, middle), timestamp: 1, attributes: 1);
        Assert.Equal(ErrorCode.CorruptMessage, RecordBatchValidator.Validate(outer, LegacyOptions, null, out _));
    }
}
