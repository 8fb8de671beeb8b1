using System.Text;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Protocol.Tests.Compression;

public class CompressionCodecTests
{
    public static TheoryData<CompressionType, int> CodecsAndSizes()
    {
        var data = new TheoryData<CompressionType, int>();
        foreach (CompressionType type in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
        {
            foreach (int size in new[] { 0, 1, 1000, 70_000, 300_000 })
            {
                data.Add(type, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CodecsAndSizes))]
    public void RoundTripsRandomAndRepetitiveData(CompressionType type, int size)
    {
        var random = new Random(size);
        byte[] data = new byte[size];
        // First half random, second half repetitive text, so both stored and matched blocks occur.
        random.NextBytes(data.AsSpan(0, size / 2));
        for (int i = size / 2; i < size; i++)
        {
            data[i] = (byte)"kafka-record-"[i % 13];
        }

        ICompressionCodec codec = CompressionCodecs.Get(type);
        Assert.Equal(type, codec.Type);
        using var compressed = new PooledBufferWriter();
        codec.Compress(data, compressed);
        using var decompressed = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, codec.Decompress(compressed.WrittenSpan, decompressed, size));
        Assert.True(decompressed.WrittenSpan.SequenceEqual(data));

        if (size > 0)
        {
            using var tooSmall = new PooledBufferWriter();
            Assert.Equal(ErrorCode.CorruptMessage, codec.Decompress(compressed.WrittenSpan, tooSmall, size - 1));
        }
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void GarbageIsCorruptMessageNotAnException(CompressionType type)
    {
        var random = new Random(3);
        ICompressionCodec codec = CompressionCodecs.Get(type);
        for (int i = 0; i < 200; i++)
        {
            byte[] garbage = new byte[random.Next(0, 200)];
            random.NextBytes(garbage);
            using var output = new PooledBufferWriter();
            ErrorCode error = codec.Decompress(garbage, output, 1 << 20);
            Assert.True(error is ErrorCode.CorruptMessage or ErrorCode.None);
        }

        // Truncating a valid stream must not succeed silently with the full output.
        byte[] data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("truncate me please ", 500)));
        byte[] valid = Records.RecordTestData.Compress(type, data);
        using var truncated = new PooledBufferWriter();
        ErrorCode truncatedError = codec.Decompress(valid.AsSpan(0, valid.Length / 2), truncated, 1 << 20);
        Assert.False(truncatedError == ErrorCode.None && truncated.WrittenSpan.SequenceEqual(data));
    }

    [Fact]
    public void ZstdAfterAnAbandonedFrameStillDecodes()
    {
        // Regression: the per-thread zstd context kept the state of a frame abandoned at the
        // byte budget, so the next batch on that thread failed as corrupt.
        byte[] big = Records.RecordTestData.Compress(CompressionType.Zstd, new byte[100_000]);
        byte[] small = Records.RecordTestData.Compress(CompressionType.Zstd, Encoding.UTF8.GetBytes("after"));
        using var first = new PooledBufferWriter();
        Assert.Equal(ErrorCode.CorruptMessage, CompressionCodecs.Zstd.Decompress(big, first, 1000));
        using var second = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Zstd.Decompress(small, second, 1000));
        Assert.Equal("after", Encoding.UTF8.GetString(second.WrittenSpan));
    }

    [Fact]
    public void CodecLookupAndNamesFollowKafka()
    {
        Assert.False(CompressionCodecs.TryGet((CompressionType)5, out _));
        Assert.True(CompressionCodecs.TryParseName("zstd", out CompressionType zstd));
        Assert.Equal(CompressionType.Zstd, zstd);
        Assert.False(CompressionCodecs.TryParseName("producer", out _));
        Assert.Equal("lz4", CompressionCodecs.GetName(CompressionType.Lz4));
    }
}
