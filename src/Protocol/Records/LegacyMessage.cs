using System.Buffers.Binary;
using Broker.Protocol.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// A view of one legacy message (magic 0 or 1, Kafka before 0.11) with its log entry header:
/// <code>
///  0 Offset int64   8 MessageSize int32   12 Crc uint32 (CRC-32 IEEE of bytes 16..end)
/// 16 Magic int8    17 Attributes int8     18 Timestamp int64 (magic 1 only)
///    KeyLength int32, Key, ValueLength int32, Value        (-1 = null)
/// </code>
/// Attributes bits 0-2 are the codec of a wrapper message whose value is a compressed inner
/// message set; bit 3 is the timestamp type (magic 1). Created by <see cref="TryRead"/> only
/// when the structure is sound (the CRC is checked separately: <see cref="IsCrcValid"/>).
/// </summary>
public readonly ref struct LegacyMessage
{
    public const int CrcOffset = 12;
    public const int MagicOffset = 16;
    public const int AttributesOffset = 17;
    public const int TimestampOffset = 18;

    /// <summary>Smallest MessageSize: crc, magic, attributes, key length, value length (Kafka RECORD_OVERHEAD_V0).</summary>
    public const int MinimumMessageSizeV0 = 14;

    /// <summary>As above plus the timestamp (RECORD_OVERHEAD_V1).</summary>
    public const int MinimumMessageSizeV1 = 22;

    private readonly ReadOnlySpan<byte> _entry;
    private readonly ReadOnlySpan<byte> _key;
    private readonly ReadOnlySpan<byte> _value;

    private LegacyMessage(ReadOnlySpan<byte> entry, int keyLength, ReadOnlySpan<byte> key, int valueLength, ReadOnlySpan<byte> value)
    {
        _entry = entry;
        KeyLength = keyLength;
        _key = key;
        ValueLength = valueLength;
        _value = value;
    }

    /// <summary>Parses the entry at the start of <paramref name="buffer"/>; false when truncated or malformed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, out LegacyMessage message)
    {
        message = default;
        if (buffer.Length < RecordBatchHeader.LogOverhead + MinimumMessageSizeV0)
        {
            return false;
        }

        int size = BinaryPrimitives.ReadInt32BigEndian(buffer.Slice(8));
        byte magic = buffer[MagicOffset];
        int minimum = magic == 0 ? MinimumMessageSizeV0 : MinimumMessageSizeV1;
        if (magic > 1 || size < minimum || size > buffer.Length - RecordBatchHeader.LogOverhead)
        {
            return false;
        }

        ReadOnlySpan<byte> entry = buffer.Slice(0, size + RecordBatchHeader.LogOverhead);
        int p = magic == 0 ? TimestampOffset : TimestampOffset + 8;
        int keyLength = BinaryPrimitives.ReadInt32BigEndian(entry.Slice(p));
        p += 4;
        if (keyLength < -1 || keyLength > entry.Length - p - 4)
        {
            return false;
        }

        ReadOnlySpan<byte> key = keyLength > 0 ? entry.Slice(p, keyLength) : default;
        p += Math.Max(keyLength, 0);
        int valueLength = BinaryPrimitives.ReadInt32BigEndian(entry.Slice(p));
        p += 4;
        bool valueFits = valueLength == -1 ? p == entry.Length : valueLength == entry.Length - p;
        if (!valueFits)
        {
            return false;
        }

        ReadOnlySpan<byte> value = valueLength > 0 ? entry.Slice(p, valueLength) : default;
        message = new LegacyMessage(entry, keyLength, key, valueLength, value);
        return true;
    }

    /// <summary>The whole entry (offset through value).</summary>
    public ReadOnlySpan<byte> Entry => _entry;

    public long Offset => BinaryPrimitives.ReadInt64BigEndian(_entry);

    public int MessageSize => BinaryPrimitives.ReadInt32BigEndian(_entry.Slice(8));

    public int SizeInBytes => _entry.Length;

    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(_entry.Slice(CrcOffset));

    public byte Magic => _entry[MagicOffset];

    public byte Attributes => _entry[AttributesOffset];

    public CompressionType CompressionType => (CompressionType)(Attributes & 0x07);

    public TimestampType TimestampType => Magic == 0
        ? TimestampType.NoTimestampType
        : (Attributes & 0x08) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;

    /// <summary>-1 (Kafka NO_TIMESTAMP) for magic 0.</summary>
    public long Timestamp => Magic == 0 ? -1 : BinaryPrimitives.ReadInt64BigEndian(_entry.Slice(TimestampOffset));

    public int KeyLength { get; }

    public bool IsKeyNull => KeyLength < 0;

    public ReadOnlySpan<byte> Key => _key;

    public int ValueLength { get; }

    public bool IsValueNull => ValueLength < 0;

    public ReadOnlySpan<byte> Value => _value;

    public bool IsCrcValid => Crc32Ieee.Compute(_entry.Slice(MagicOffset)) == Crc;
}
