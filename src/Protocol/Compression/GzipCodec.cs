using System.Buffers;
using System.IO.Compression;

namespace Broker.Protocol.Compression;

/// <summary>
/// gzip (RFC 1952) as Java's GZIPOutputStream writes it. Concatenated members are accepted
/// on read, as Java's GZIPInputStream does.
/// </summary>
internal sealed class GzipCodec : ICompressionCodec
{
    public CompressionType Type => CompressionType.Gzip;

    // A complete member for empty input (header, empty final deflate block, CRC 0, size 0):
    // GZipStream writes nothing at all when nothing was written to it.
    private static ReadOnlySpan<byte> EmptyMember => [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        if (source.IsEmpty)
        {
            destination.Write(EmptyMember);
            return;
        }

        // Kafka's default compression.gzip.level is zlib's default (6), which .NET calls Optimal.
        using var output = new BufferWriterStream(destination);
        using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        gzip.Write(source);
    }

    public unsafe ErrorCode Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedBytes)
    {
        if (source.IsEmpty)
        {
            return ErrorCode.CorruptMessage;
        }

        try
        {
            fixed (byte* pointer = source)
            {
                // The input span is pinned for the whole read; the stream never outlives it.
                using var input = new UnmanagedMemoryStream(pointer, source.Length);
                using var gzip = new GZipStream(input, CompressionMode.Decompress);
                return BoundedStreamCopy.Copy(gzip, destination, maxDecompressedBytes);
            }
        }
        catch (InvalidDataException)
        {
            return ErrorCode.CorruptMessage;
        }
        catch (IOException)
        {
            return ErrorCode.CorruptMessage;
        }
    }
}
