using System.Buffers;

namespace Broker.Protocol.Compression;

/// <summary>
/// One record batch compression codec, both directions. Implementations are stateless from
/// the caller's point of view and safe to use from several threads at once.
/// </summary>
public interface ICompressionCodec
{
    CompressionType Type { get; }

    /// <summary>Appends the compressed form of <paramref name="source"/> to <paramref name="destination"/>.</summary>
    void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination);

    /// <summary>
    /// Appends the decompressed form of <paramref name="source"/> to <paramref name="destination"/>.
    /// Returns <see cref="ErrorCode.CorruptMessage"/> when the input is malformed or would
    /// decompress to more than <paramref name="maxDecompressedBytes"/> (a decompression bomb is
    /// detected before its output is allocated); the destination then holds a partial result
    /// that the caller discards. Never throws on bad input.
    /// </summary>
    ErrorCode Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedBytes);
}
