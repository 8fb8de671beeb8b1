using System.IO.Compression;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using K4os.Compression.LZ4.Streams;

namespace Broker.Protocol.Tests.Compression;

/// <summary>
/// 1 GiB of zeros, compressed, must be refused at a 64 MiB budget without the decoder
/// producing (or the process allocating) anywhere near 1 GiB.
/// </summary>
public class DecompressionBombTests
{
    private const long BombBytes = 1L << 30;
    private const int LimitBytes = 64 << 20;

    [Fact(Timeout = 120_000)]
    public async Task GzipBomb() => await Check(CompressionType.Gzip, GzipBomb1GiB());

    [Fact(Timeout = 120_000)]
    public async Task SnappyBomb() => await Check(CompressionType.Snappy, SnappyBomb1GiB());

    [Fact(Timeout = 120_000)]
    public async Task Lz4Bomb() => await Check(CompressionType.Lz4, StreamBomb(s => LZ4Stream.Encode(s, leaveOpen: true)));

    [Fact(Timeout = 120_000)]
    public async Task ZstdBomb() => await Check(CompressionType.Zstd, StreamBomb(s => new ZstdSharp.CompressionStream(s, 1, leaveOpen: true)));

    [Fact(Timeout = 120_000)]
    public async Task ValidatorRefusesABombBatch()
    {
        await Task.Yield();
        byte[] payload = StreamBomb(s => new ZstdSharp.CompressionStream(s, 1, leaveOpen: true));
        // A batch claiming one record whose records section is the bomb; the CRC is right.
        using var builder = new RecordBatchBuilder(CompressionType.Zstd);
        builder.Append(0, null, [1]);
        using PooledBufferWriter built = builder.Build();
        byte[] batch = [.. built.WrittenSpan.Slice(0, RecordBatchHeader.RecordsOffset), .. payload];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BatchLengthOffset), batch.Length - 12);
        RecordBatchHeader.UpdateCrc(batch);

        long before = GC.GetAllocatedBytesForCurrentThread();
        ErrorCode error = RecordBatchValidator.Validate(batch, new RecordValidationOptions { MaxDecompressedBytes = LimitBytes }, null, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(ErrorCode.CorruptMessage, error);
        // The pooled buffer grows by doubling up to the budget: well under the 1 GiB bomb.
        Assert.True(allocated < 4L * LimitBytes, $"allocated {allocated} bytes");
    }

    private static async Task Check(CompressionType type, byte[] bomb)
    {
        await Task.Yield();
        var counting = new CountingBufferWriter();
        long before = GC.GetAllocatedBytesForCurrentThread();
        ErrorCode error = CompressionCodecs.Get(type).Decompress(bomb, counting, LimitBytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(ErrorCode.CorruptMessage, error);
        // At most one codec block beyond the budget is produced before the refusal.
        Assert.InRange(counting.Written, 0, LimitBytes + (4L << 20));
        Assert.True(allocated < 32L << 20, $"{type}: allocated {allocated} bytes");
    }

    private static byte[] StreamBomb(Func<Stream, Stream> open)
    {
        using var output = new MemoryStream();
        using (Stream compressor = open(output))
        {
            byte[] zeros = new byte[1 << 20];
            for (long written = 0; written < BombBytes; written += zeros.Length)
            {
                compressor.Write(zeros);
            }
        }

        return output.ToArray();
    }

    private static byte[] GzipBomb1GiB()
    {
        // Java's GZIPInputStream and ours read concatenated members: 16 members of 64 MiB.
        using var member = new MemoryStream();
        using (var gzip = new GZipStream(member, CompressionLevel.Fastest, leaveOpen: true))
        {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++)
            {
                gzip.Write(zeros);
            }
        }

        byte[] one = member.ToArray();
        using var all = new MemoryStream();
        for (int i = 0; i < 16; i++)
        {
            all.Write(one);
        }

        return all.ToArray();
    }

    private static byte[] SnappyBomb1GiB()
    {
        // Xerial framing of 32 KiB zero blocks: compress one block, repeat it.
        using var first = new PooledBufferWriter();
        CompressionCodecs.Snappy.Compress(new byte[32 * 1024], first);
        ReadOnlySpan<byte> framed = first.WrittenSpan;
        ReadOnlySpan<byte> header = framed.Slice(0, 16);
        ReadOnlySpan<byte> block = framed.Slice(16);
        using var all = new MemoryStream();
        all.Write(header);
        for (long i = 0; i < BombBytes / (32 * 1024); i++)
        {
            all.Write(block);
        }

        return all.ToArray();
    }
}
