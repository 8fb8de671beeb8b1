using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Broker.Storage.Cleaner;

/// <summary>
/// Key -> offset of its latest record in the dirty section of a compacted log (Kafka
/// <c>SkeinOffsetMap</c>). Keys are stored as their 16-byte MD5 digest, as Kafka does, so the map's
/// memory does not depend on key sizes; a collision would need two keys with the same MD5.
/// Unlike Kafka (log.cleaner.dedupe.buffer.size) the map is not bounded: a dirty section with more
/// distinct keys than memory allows is not split across passes.
/// Used by one cleaner thread at a time; not thread-safe.
/// </summary>
internal sealed class OffsetMap
{
    private readonly Dictionary<KeyDigest, long> _latest = new();

    public int Count => _latest.Count;

    /// <summary>Records <paramref name="offset"/> as the latest for <paramref name="key"/> (offsets are put in increasing order).</summary>
    public void Put(ReadOnlySpan<byte> key, long offset)
    {
        KeyDigest digest = Digest(key);
        _latest[digest] = offset;
    }

    /// <summary>The latest offset seen for <paramref name="key"/>, or -1.</summary>
    public long Get(ReadOnlySpan<byte> key) => _latest.TryGetValue(Digest(key), out long offset) ? offset : -1;

    private static KeyDigest Digest(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[MD5.HashSizeInBytes];
        MD5.HashData(key, hash);
        return new KeyDigest(BinaryPrimitives.ReadUInt64LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash.Slice(8)));
    }

    private readonly record struct KeyDigest(ulong High, ulong Low);
}
