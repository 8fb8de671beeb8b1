using System.Buffers;
using ZstdSharp;

namespace Broker.Protocol.Compression;

/// <summary>
/// Zstandard frames (KIP-110; produce v7+ and fetch v10+). Several concatenated frames are
/// accepted. Compressor and decompressor contexts are large, so one of each is kept per thread.
/// </summary>
internal sealed class ZstdCodec : ICompressionCodec
{
    /// <summary>Kafka's default compression.zstd.level (zstd's default).</summary>
    internal const int DefaultLevel = 3;

    [ThreadStatic]
    private static Compressor? t_compressor;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    public CompressionType Type => CompressionType.Zstd;

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        Compressor compressor = t_compressor ??= new Compressor(DefaultLevel);
        int bound = Compressor.GetCompressBound(source.Length);
        Span<byte> span = destination.GetSpan(bound);
        int written = compressor.Wrap(source, span);
        destination.Advance(written);
    }

    public unsafe ErrorCode Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedBytes)
    {
        if (source.IsEmpty)
        {
            return ErrorCode.CorruptMessage;
        }

        Decompressor decompressor = t_decompressor ??= new Decompressor();
        try
        {
            // A previous call may have stopped mid-frame (budget exceeded); start clean.
            decompressor.ResetStream();
            fixed (byte* pointer = source)
            {
                using var input = new UnmanagedMemoryStream(pointer, source.Length);
                using var zstd = new DecompressionStream(input, decompressor, 0, checkEndOfStream: true, preserveDecompressor: true, leaveOpen: true);
                return BoundedStreamCopy.Copy(zstd, destination, maxDecompressedBytes);
            }
        }
        catch (Exception e) when (e is ZstdException or EndOfStreamException or IOException or InvalidDataException or ArgumentException)
        {
            // The context may be mid-frame; start the next call from a clean state.
            decompressor.Dispose();
            t_decompressor = null;
            return ErrorCode.CorruptMessage;
        }
    }
}
