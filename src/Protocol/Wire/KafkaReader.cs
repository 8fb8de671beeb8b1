using System.Buffers.Binary;
using System.Text;

namespace Broker.Protocol.Wire;

/// <summary>
/// Big-endian reader over one request or response body, following Kafka's wire types
/// (https://kafka.apache.org/protocol#protocol_types).
/// Failure is sticky (as in franz-go's kbin.Reader): after an underflow or an invalid length
/// <see cref="Failed"/> stays true and every later read returns a default, so generated code
/// checks once at the end instead of after every field. Every length or element count is checked
/// against the bytes remaining before anything is allocated, so hostile input cannot make us
/// allocate more than a small multiple of its own size.
/// </summary>
public ref struct KafkaReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly ReadOnlySpan<byte> _span;
    private int _position;

    public KafkaReader(ReadOnlyMemory<byte> buffer)
    {
        _memory = buffer;
        _span = buffer.Span;
        _position = 0;
        Failed = false;
    }

    /// <summary>True once any read ran past the end or met an invalid length; never reset.</summary>
    public bool Failed { get; private set; }

    public int Position => _position;

    public int Remaining => _span.Length - _position;

    /// <summary>Marks the input as malformed (used by generated code for semantic checks).</summary>
    public void Fail() => Failed = true;

    private bool Take(int count, out int start)
    {
        start = _position;
        if (Failed || count < 0 || count > _span.Length - _position)
        {
            Failed = true;
            return false;
        }
        _position += count;
        return true;
    }

    public sbyte ReadInt8() => Take(1, out int p) ? (sbyte)_span[p] : (sbyte)0;

    public bool ReadBool() => Take(1, out int p) && _span[p] != 0;

    public short ReadInt16() => Take(2, out int p) ? BinaryPrimitives.ReadInt16BigEndian(_span.Slice(p)) : (short)0;

    public ushort ReadUInt16() => Take(2, out int p) ? BinaryPrimitives.ReadUInt16BigEndian(_span.Slice(p)) : (ushort)0;

    public int ReadInt32() => Take(4, out int p) ? BinaryPrimitives.ReadInt32BigEndian(_span.Slice(p)) : 0;

    public uint ReadUInt32() => Take(4, out int p) ? BinaryPrimitives.ReadUInt32BigEndian(_span.Slice(p)) : 0u;

    public long ReadInt64() => Take(8, out int p) ? BinaryPrimitives.ReadInt64BigEndian(_span.Slice(p)) : 0L;

    public double ReadFloat64() => Take(8, out int p) ? BinaryPrimitives.ReadDoubleBigEndian(_span.Slice(p)) : 0d;

    /// <summary>A UUID as Kafka writes it: 16 bytes, most significant first.</summary>
    public Guid ReadUuid() => Take(16, out int p) ? new Guid(_span.Slice(p, 16), bigEndian: true) : Guid.Empty;

    /// <summary>Unsigned LEB128, at most 5 bytes (Kafka's ByteUtils.readUnsignedVarint).</summary>
    public uint ReadUnsignedVarInt()
    {
        if (!Failed && _position < _span.Length && _span[_position] < 0x80)
        {
            // One-byte fast path: lengths, counts and tagged-field counts are nearly always small.
            return _span[_position++];
        }
        uint value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (!Take(1, out int p)) return 0;
            byte b = _span[p];
            if (shift == 28 && (b & 0xF0) != 0)
            {
                // A fifth byte may only carry the top 4 bits of a 32-bit value.
                Failed = true;
                return 0;
            }
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        Failed = true;
        return 0;
    }

    /// <summary>Zigzag-encoded signed varint (record fields, Kafka's ByteUtils.readVarint).</summary>
    public int ReadVarInt()
    {
        uint raw = ReadUnsignedVarInt();
        return (int)(raw >> 1) ^ -(int)(raw & 1);
    }

    /// <summary>Zigzag-encoded signed varlong, at most 10 bytes.</summary>
    public long ReadVarLong()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (!Take(1, out int p)) return 0;
            byte b = _span[p];
            if (shift == 63 && (b & 0xFE) != 0)
            {
                Failed = true;
                return 0;
            }
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return (long)(value >> 1) ^ -(long)(value & 1);
        }
        Failed = true;
        return 0;
    }

    // Length prefixes. Classic lengths are int16 (strings) or int32 (bytes, arrays) with -1 = null;
    // compact lengths (flexible versions, KIP-482) are unsigned varint N+1 with 0 = null.

    private int ReadCompactLength()
    {
        uint raw = ReadUnsignedVarInt();
        if (Failed) return 0;
        // raw - 1 may exceed int.MaxValue only for hostile input; Take/array checks reject it.
        return raw == 0 ? -1 : raw - 1 > int.MaxValue ? int.MaxValue : (int)(raw - 1);
    }

    private string? DecodeString(int length, bool nullable)
    {
        if (length < 0)
        {
            if (!nullable || length != -1) Failed = true;
            return null;
        }
        if (!Take(length, out int p)) return null;
        return length == 0 ? string.Empty : Encoding.UTF8.GetString(_span.Slice(p, length));
    }

    /// <summary>int16 length then UTF-8; null (-1) is invalid here and fails the read.</summary>
    public string ReadString() => DecodeString(ReadInt16(), nullable: false) ?? string.Empty;

    public string? ReadNullableString() => DecodeString(ReadInt16(), nullable: true);

    public string ReadCompactString() => DecodeString(ReadCompactLength(), nullable: false) ?? string.Empty;

    public string? ReadCompactNullableString() => DecodeString(ReadCompactLength(), nullable: true);

    /// <summary>Reads a string in the form the version uses (compact when flexible).</summary>
    public string? ReadString(bool compact, bool nullable)
    {
        int length = compact ? ReadCompactLength() : ReadInt16();
        return Failed ? (nullable ? null : string.Empty) : DecodeString(length, nullable) ?? (nullable ? null : string.Empty);
    }

    private byte[]? CopyBytes(int length, bool nullable)
    {
        if (length < 0)
        {
            if (!nullable || length != -1) Failed = true;
            return null;
        }
        if (!Take(length, out int p)) return null;
        return length == 0 ? Array.Empty<byte>() : _span.Slice(p, length).ToArray();
    }

    /// <summary>Reads a bytes field (int32 or compact length) and copies it.</summary>
    public byte[]? ReadBytes(bool compact, bool nullable)
    {
        int length = compact ? ReadCompactLength() : ReadInt32();
        if (Failed) return nullable ? null : Array.Empty<byte>();
        return CopyBytes(length, nullable) ?? (nullable ? null : Array.Empty<byte>());
    }

    /// <summary>Reads a records field as a slice of the input (no copy).</summary>
    public MemoryRecords? ReadRecords(bool compact, bool nullable)
    {
        int length = compact ? ReadCompactLength() : ReadInt32();
        if (Failed) return null;
        if (length < 0)
        {
            if (!nullable || length != -1) Failed = true;
            return null;
        }
        if (!Take(length, out int p)) return null;
        return length == 0 ? MemoryRecords.Empty : new MemoryRecords(_memory.Slice(p, length));
    }

    /// <summary>
    /// Reads an array's element count: -1 for null. Fails when null is not allowed or when
    /// <paramref name="count"/> × <paramref name="minElementBytes"/> exceeds what is left.
    /// </summary>
    public int ReadArrayLength(bool compact, bool nullable, int minElementBytes = 1)
    {
        int count = compact ? ReadCompactLength() : ReadInt32();
        if (Failed) return nullable ? -1 : 0;
        if (count < 0)
        {
            if (!nullable || count != -1) Failed = true;
            return Failed ? 0 : -1;
        }
        if ((long)count * minElementBytes > Remaining)
        {
            Failed = true;
            return 0;
        }
        return count;
    }

    /// <summary>Copies <paramref name="length"/> raw bytes (an unknown tagged field's payload).</summary>
    public byte[] ReadRawBytes(int length)
    {
        if (!Take(length, out int p)) return Array.Empty<byte>();
        return _span.Slice(p, length).ToArray();
    }

    /// <summary>A slice of the input without copying.</summary>
    public ReadOnlyMemory<byte> ReadRawMemory(int length)
    {
        if (!Take(length, out int p)) return ReadOnlyMemory<byte>.Empty;
        return _memory.Slice(p, length);
    }

    public void Skip(int length) => Take(length, out _);

    /// <summary>
    /// Reads a tagged field's size and checks it fits in what is left. Returns -1 on failure.
    /// </summary>
    public int ReadTaggedFieldSize()
    {
        uint size = ReadUnsignedVarInt();
        if (Failed) return -1;
        if (size > (uint)Remaining)
        {
            Failed = true;
            return -1;
        }
        return (int)size;
    }

    /// <summary>Fails when a known tagged field did not consume exactly its declared size.</summary>
    public void EndTaggedField(int start, int size)
    {
        if (!Failed && _position - start != size) Failed = true;
    }

    /// <summary>Reads the unknown tagged field whose tag and size were already read.</summary>
    public void ReadUnknownTaggedField(ref List<RawTaggedField>? unknown, uint tag, int size)
    {
        byte[] data = ReadRawBytes(size);
        if (Failed) return;
        (unknown ??= new List<RawTaggedField>()).Add(new RawTaggedField(tag > int.MaxValue ? int.MaxValue : (int)tag, data));
    }
}
