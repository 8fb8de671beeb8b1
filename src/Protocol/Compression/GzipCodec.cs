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

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        // Kafka's default compression.gzip.level is zlib's default (6), which .NET calls Optimal.
        using var output = new BufferWriterStream(destination);
        using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        gzip.Write(source);
    }

    public unsafe ErrorCode Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedBytes)
    {
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
