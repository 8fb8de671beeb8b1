using System.Buffers;

namespace Broker.Protocol.Compression;

/// <summary>The codec for each <see cref="CompressionType"/>.</summary>
public static class CompressionCodecs
{
    public static readonly ICompressionCodec None = new NoCompressionCodec();
    public static readonly ICompressionCodec Gzip = new GzipCodec();
    public static readonly ICompressionCodec Snappy = new SnappyCodec();
    public static readonly ICompressionCodec Lz4 = new Lz4Codec();
    public static readonly ICompressionCodec Zstd = new ZstdCodec();

    /// <summary>False for ids 5..7, which no Kafka version defines.</summary>
    public static bool TryGet(CompressionType type, out ICompressionCodec codec)
    {
        switch (type)
        {
            case CompressionType.None: codec = None; return true;
            case CompressionType.Gzip: codec = Gzip; return true;
            case CompressionType.Snappy: codec = Snappy; return true;
            case CompressionType.Lz4: codec = Lz4; return true;
            case CompressionType.Zstd: codec = Zstd; return true;
            default: codec = None; return false;
        }
    }

    /// <exception cref="ArgumentOutOfRangeException">an id Kafka does not define.</exception>
    public static ICompressionCodec Get(CompressionType type) =>
        TryGet(type, out ICompressionCodec codec) ? codec : throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown compression type.");

    /// <summary>Kafka's names as used by compression.type (topic and producer configs).</summary>
    public static bool TryParseName(string name, out CompressionType type)
    {
        switch (name)
        {
            case "none": type = CompressionType.None; return true;
            case "gzip": type = CompressionType.Gzip; return true;
            case "snappy": type = CompressionType.Snappy; return true;
            case "lz4": type = CompressionType.Lz4; return true;
            case "zstd": type = CompressionType.Zstd; return true;
            default: type = CompressionType.None; return false;
        }
    }

    public static string GetName(CompressionType type) => type switch
    {
        CompressionType.None => "none",
        CompressionType.Gzip => "gzip",
        CompressionType.Snappy => "snappy",
        CompressionType.Lz4 => "lz4",
        CompressionType.Zstd => "zstd",
        _ => "unknown",
    };

    private sealed class NoCompressionCodec : ICompressionCodec
    {
        public CompressionType Type => CompressionType.None;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination) => destination.Write(source);

        public ErrorCode Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedBytes)
        {
            if (source.Length > maxDecompressedBytes)
            {
                return ErrorCode.CorruptMessage;
            }

            destination.Write(source);
            return ErrorCode.None;
        }
    }
}
