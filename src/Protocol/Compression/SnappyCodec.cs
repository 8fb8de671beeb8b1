using System.Buffers;
using System.Buffers.Binary;

namespace Broker.Protocol.Compression;

/// <summary>
/// Snappy. Java clients write snappy-java's "xerial" stream framing: a 16-byte header
/// (0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, then big-endian int32 version 1 and compatible version 1)
/// followed by blocks of [big-endian int32 compressed length][raw snappy block]; librdkafka
/// and other clients may write one raw snappy block instead. Both are read; xerial is written,
/// since that is what Java consumers expect and what librdkafka also reads. The snappy
/// "framing format" (0xFF sNaPpY) is not used by Kafka.
/// </summary>
internal sealed class SnappyCodec : ICompressionCodec
{
    /// <summary>snappy-java's default block size (SnappyOutputStream).</summary>
    internal const int XerialBlockBytes = 32 * 1024;

    internal const int XerialHeaderBytes = 16;

    internal static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    public CompressionType Type => CompressionType.Snappy;

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        Span<byte> header = destination.GetSpan(XerialHeaderBytes);
        XerialMagic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header.Slice(8), 1);
        BinaryPrimitives.WriteInt32BigEndian(header.Slice(12), 1);
        destination.Advance(XerialHeaderBytes);

        while (!source.IsEmpty)
        {
            ReadOnlySpan<byte> block = source.Slice(0, Math.Min(XerialBlockBytes, source.Length));
            int bound = Snappier.Snappy.GetMaxCompressedLength(block.Length);
            Span<byte> span = destination.GetSpan(4 + bound);
            int written = Snappier.Snappy.Compress(block, span.Slice(4));
            BinaryPrimitives.WriteInt32BigEndian(span, written);
            destination.Advance(4 + written);
            source = source.Slice(block.Length);
        }
    }

    public ErrorCode Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedBytes)
    {
        try
        {
            if (!IsXerial(source))
            {
                return DecompressBlock(source, destination, maxDecompressedBytes, out _);
            }

            ReadOnlySpan<byte> rest = source.Slice(XerialHeaderBytes);
            long budget = maxDecompressedBytes;
            while (!rest.IsEmpty)
            {
                if (rest.Length < 4)
                {
                    return ErrorCode.CorruptMessage;
                }

                int length = BinaryPrimitives.ReadInt32BigEndian(rest);
                if (length <= 0 || length > rest.Length - 4)
                {
                    return ErrorCode.CorruptMessage;
                }

                ErrorCode error = DecompressBlock(rest.Slice(4, length), destination, (int)budget, out int written);
                if (error != ErrorCode.None)
                {
                    return error;
                }

                budget -= written;
                rest = rest.Slice(4 + length);
            }

            return ErrorCode.None;
        }
        catch (InvalidDataException)
        {
            return ErrorCode.CorruptMessage;
        }
        catch (ArgumentException)
        {
            return ErrorCode.CorruptMessage;
        }
    }

    /// <summary>True when the data starts with the xerial header (as snappy-java's SnappyInputStream checks).</summary>
    internal static bool IsXerial(ReadOnlySpan<byte> source) =>
        source.Length >= XerialHeaderBytes && source.StartsWith(XerialMagic);

    private static ErrorCode DecompressBlock(ReadOnlySpan<byte> block, IBufferWriter<byte> destination, int budget, out int written)
    {
        written = 0;
        // The raw format starts with the uncompressed length, so a bomb is refused before any
        // output is allocated.
        int length = Snappier.Snappy.GetUncompressedLength(block);
        if (length < 0 || length > budget)
        {
            return ErrorCode.CorruptMessage;
        }

        if (length == 0)
        {
            return ErrorCode.None;
        }

        Span<byte> span = destination.GetSpan(length).Slice(0, length);
        written = Snappier.Snappy.Decompress(block, span);
        if (written != length)
        {
            return ErrorCode.CorruptMessage;
        }

        destination.Advance(written);
        return ErrorCode.None;
    }
}
