using System.Text;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using K4os.Compression.LZ4.Streams;

namespace Broker.Protocol.Tests.Compression;

/// <summary>Byte-level format checks against what other Kafka clients write and read.</summary>
public class CodecFormatTests
{
    // snappy-java's SnappyOutputStream output for "hello": header 0x82 "SNAPPY" 0x00, version 1,
    // compatible version 1, then one block: big-endian length 7, raw snappy (varint length 5,
    // literal tag (5-1)<<2, the bytes).
    private static readonly byte[] XerialHello =
    [
        0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x07, 0x05, 0x10, 0x68, 0x65, 0x6C, 0x6C, 0x6F,
    ];

    // An LZ4 frame as written by the reference lz4 library with independent blocks and no
    // checksums, holding one uncompressed block: magic 0x184D2204 (little-endian), FLG 0x60,
    // BD 0x40 (64 KiB), header checksum 0x82 (second byte of xxHash32 of FLG BD), block size
    // with the high "uncompressed" bit, the data, end mark.
    private static readonly byte[] Lz4FrameHello =
    [
        0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82, 0x05, 0x00, 0x00, 0x80, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x00, 0x00, 0x00, 0x00,
    ];

    [Fact]
    public void SnappyWritesXerialFramingLikeTheJavaClient()
    {
        using var output = new PooledBufferWriter();
        CompressionCodecs.Snappy.Compress(Encoding.ASCII.GetBytes("hello"), output);
        Assert.Equal(XerialHello, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void SnappyReadsXerialAndRawBlocks()
    {
        using var fromXerial = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Snappy.Decompress(XerialHello, fromXerial, 100));
        Assert.Equal("hello", Encoding.ASCII.GetString(fromXerial.WrittenSpan));

        // librdkafka-style raw block: just the part after the xerial block length.
        using var fromRaw = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Snappy.Decompress(XerialHello.AsSpan(20), fromRaw, 100));
        Assert.Equal("hello", Encoding.ASCII.GetString(fromRaw.WrittenSpan));
    }

    [Fact]
    public void SnappyXerialSplitsLargeInputIntoJavaSizedBlocks()
    {
        byte[] data = new byte[100_000];
        new Random(1).NextBytes(data);
        using var output = new PooledBufferWriter();
        CompressionCodecs.Snappy.Compress(data, output);
        // 32 KiB blocks: 100,000 bytes make four blocks.
        int blocks = 0;
        ReadOnlySpan<byte> rest = output.WrittenSpan.Slice(16);
        while (!rest.IsEmpty)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(rest);
            rest = rest.Slice(4 + length);
            blocks++;
        }

        Assert.Equal(4, blocks);
    }

    [Fact]
    public void SnappyRawBlockClaimingAHugeLengthIsRefusedBeforeAllocating()
    {
        // Varint 0xFFFFFFFF0F = 4 GiB - 1 uncompressed bytes, then nothing.
        byte[] raw = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00];
        var counting = new CountingBufferWriter();
        Assert.Equal(ErrorCode.CorruptMessage, CompressionCodecs.Snappy.Decompress(raw, counting, 64 << 20));
        Assert.Equal(0, counting.Written);
    }

    [Fact]
    public void Lz4ReadsAReferenceFrame()
    {
        using var output = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Lz4.Decompress(Lz4FrameHello, output, 100));
        Assert.Equal("hello", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Lz4WritesIndependentBlocksThatJavaCanRead()
    {
        byte[] data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("lz4 frame for kafka ", 10_000)));
        using var output = new PooledBufferWriter();
        CompressionCodecs.Lz4.Compress(data, output);
        ReadOnlySpan<byte> frame = output.WrittenSpan;
        Assert.True(frame.StartsWith(new byte[] { 0x04, 0x22, 0x4D, 0x18 }));
        byte flg = frame[4];
        Assert.Equal(0x40, flg & 0xC0); // version 01
        Assert.Equal(0x20, flg & 0x20); // block independence: Java's KafkaLZ4BlockInputStream needs it
        Assert.Equal(0x40, frame[5] & 0x70); // 64 KiB blocks, as KafkaLZ4BlockOutputStream
    }

    [Fact]
    public void Lz4ReadsLinkedBlocksAsLibrdkafkaWrites()
    {
        byte[] data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("linked blocks refer back ", 20_000)));
        var settings = new LZ4EncoderSettings { ChainBlocks = true, BlockSize = 64 * 1024, ContentChecksum = true };
        using var frame = new PooledBufferWriter();
        LZ4Frame.Encode(data.AsSpan(), frame, settings);
        Assert.Equal(0, frame.WrittenSpan[4] & 0x20);
        using var output = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Lz4.Decompress(frame.WrittenSpan, output, data.Length));
        Assert.True(output.WrittenSpan.SequenceEqual(data));
    }

    [Fact]
    public void GzipReadsConcatenatedMembersLikeJava()
    {
        byte[] a = Records.RecordTestData.Compress(CompressionType.Gzip, Encoding.ASCII.GetBytes("first "));
        byte[] b = Records.RecordTestData.Compress(CompressionType.Gzip, Encoding.ASCII.GetBytes("second"));
        using var output = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Gzip.Decompress([.. a, .. b], output, 100));
        Assert.Equal("first second", Encoding.ASCII.GetString(output.WrittenSpan));
        Assert.Equal(0x1F, a[0]);
        Assert.Equal(0x8B, a[1]);
    }
}
