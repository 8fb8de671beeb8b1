namespace Broker.Protocol.Compression;

/// <summary>
/// Compression codec ids as stored in bits 0-2 of a record batch's attributes (magic v2) or a
/// legacy message's attributes (magic 0/1). Values are Kafka's <c>CompressionType.id</c>.
/// </summary>
public enum CompressionType : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}
