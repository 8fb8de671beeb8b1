using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace Broker.Protocol.Wire;

/// <summary>
/// Big-endian writer, the mirror of <see cref="KafkaReader"/>. The caller sizes the destination
/// with the message's ComputeSize first, so the writer never grows; running out of space is a
/// bug in size computation and throws.
/// When a splice list is given, records that are not <see cref="MemoryRecords"/> are not copied:
/// only their length prefix is written and a <see cref="RecordsSplice"/> marks where the network
/// layer must send them (sendfile). Such bytes count in ComputeSize but not in the buffer.
/// </summary>
public ref struct KafkaWriter
{
    private readonly Span<byte> _destination;
    private readonly List<RecordsSplice>? _splices;
    private int _position;

    public KafkaWriter(Span<byte> destination, List<RecordsSplice>? splices = null)
    {
        _destination = destination;
        _splices = splices;
        _position = 0;
    }

    /// <summary>Bytes written into the destination so far (spliced records excluded).</summary>
    public int Position => _position;

    public int Remaining => _destination.Length - _position;

    private Span<byte> Advance(int count)
    {
        if (count > _destination.Length - _position)
            throw new InvalidOperationException($"KafkaWriter overflow: need {count} bytes, {Remaining} left (ComputeSize mismatch)");
        Span<byte> span = _destination.Slice(_position, count);
        _position += count;
        return span;
    }

    public void WriteInt8(sbyte value) => Advance(1)[0] = (byte)value;

    public void WriteBool(bool value) => Advance(1)[0] = value ? (byte)1 : (byte)0;

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16BigEndian(Advance(2), value);

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Advance(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Advance(4), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Advance(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Advance(8), value);

    public void WriteFloat64(double value) => BinaryPrimitives.WriteDoubleBigEndian(Advance(8), value);

    public void WriteUuid(Guid value)
    {
        bool ok = value.TryWriteBytes(Advance(16), bigEndian: true, out _);
        Debug.Assert(ok);
    }

    public void WriteUnsignedVarInt(uint value)
    {
        if (value < 0x80)
        {
            // Lengths, counts and tagged-field counts are nearly always one byte.
            Advance(1)[0] = (byte)value;
            return;
        }
        while (value >= 0x80)
        {
            Advance(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }
        Advance(1)[0] = (byte)value;
    }

    public void WriteVarInt(int value) => WriteUnsignedVarInt((uint)((value << 1) ^ (value >> 31)));

    public void WriteVarLong(long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        while (v >= 0x80)
        {
            Advance(1)[0] = (byte)(v | 0x80);
            v >>= 7;
        }
        Advance(1)[0] = (byte)v;
    }

    public static int SizeOfUnsignedVarInt(uint value)
    {
        // 1 byte per 7 bits, at least one byte.
        int bits = 32 - System.Numerics.BitOperations.LeadingZeroCount(value | 1);
        return (bits + 6) / 7;
    }

    public static int SizeOfVarInt(int value) => SizeOfUnsignedVarInt((uint)((value << 1) ^ (value >> 31)));

    public static int SizeOfVarLong(long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(v | 1);
        return (bits + 6) / 7;
    }

    /// <summary>Wire size of a string field: length prefix plus UTF-8 bytes.</summary>
    public static int SizeOfString(string? value, bool compact)
    {
        if (value is null) return compact ? 1 : 2;
        int bytes = Encoding.UTF8.GetByteCount(value);
        return (compact ? SizeOfUnsignedVarInt((uint)bytes + 1) : 2) + bytes;
    }

    /// <summary>Wire size of a bytes field including its length prefix.</summary>
    public static int SizeOfBytes(int length, bool compact) =>
        length < 0 ? (compact ? 1 : 4) : (compact ? SizeOfUnsignedVarInt((uint)length + 1) : 4) + length;

    /// <summary>Wire size of an array's length prefix (count -1 = null).</summary>
    public static int SizeOfArrayLength(int count, bool compact) =>
        compact ? SizeOfUnsignedVarInt((uint)(count + 1)) : 4;

    /// <summary>
    /// Writes a string; null is written as null when <paramref name="nullable"/>, else as empty
    /// (Kafka would throw; we prefer a valid frame for a handler that forgot a field).
    /// </summary>
    public void WriteString(string? value, bool compact, bool nullable)
    {
        if (value is null)
        {
            if (nullable)
            {
                if (compact) WriteUnsignedVarInt(0); else WriteInt16(-1);
                return;
            }
            value = string.Empty;
        }
        int bytes = Encoding.UTF8.GetByteCount(value);
        if (compact)
        {
            WriteUnsignedVarInt((uint)bytes + 1);
        }
        else
        {
            if (bytes > short.MaxValue) throw new InvalidOperationException("string longer than 32767 bytes in a classic string field");
            WriteInt16((short)bytes);
        }
        int written = Encoding.UTF8.GetBytes(value, Advance(bytes));
        Debug.Assert(written == bytes);
    }

    public void WriteBytes(ReadOnlySpan<byte> value, bool isNull, bool compact, bool nullable)
    {
        if (isNull && nullable)
        {
            if (compact) WriteUnsignedVarInt(0); else WriteInt32(-1);
            return;
        }
        if (compact) WriteUnsignedVarInt((uint)value.Length + 1); else WriteInt32(value.Length);
        value.CopyTo(Advance(value.Length));
    }

    public void WriteBytes(byte[]? value, bool compact, bool nullable) =>
        WriteBytes(value, value is null, compact, nullable);

    /// <summary>Writes an array's element count (-1 = null).</summary>
    public void WriteArrayLength(int count, bool compact)
    {
        if (compact) WriteUnsignedVarInt((uint)(count + 1)); else WriteInt32(count);
    }

    /// <summary>
    /// Writes a records field: the length prefix, then the records copied, or spliced when they
    /// are not in memory and a splice list was given (see the class comment).
    /// </summary>
    public void WriteRecords(BaseRecords? records, bool compact, bool nullable)
    {
        if (records is null)
        {
            if (nullable)
            {
                if (compact) WriteUnsignedVarInt(0); else WriteInt32(-1);
            }
            else
            {
                if (compact) WriteUnsignedVarInt(1); else WriteInt32(0);
            }
            return;
        }
        int size = records.SizeInBytes;
        if (compact) WriteUnsignedVarInt((uint)size + 1); else WriteInt32(size);
        if (records is MemoryRecords memory)
        {
            memory.Buffer.Span.CopyTo(Advance(size));
        }
        else if (_splices is not null)
        {
            _splices.Add(new RecordsSplice(_position, records));
        }
        else
        {
            records.CopyTo(Advance(size));
        }
    }

    /// <summary>Wire size of a records field including its length prefix.</summary>
    public static int SizeOfRecords(BaseRecords? records, bool compact) =>
        records is null ? (compact ? 1 : 4) : SizeOfBytes(records.SizeInBytes, compact);

    /// <summary>
    /// Writes the preserved unknown tagged fields whose tag is below <paramref name="belowTag"/>,
    /// starting at <paramref name="index"/>; called between known tags so the section stays in
    /// ascending tag order (KIP-482 requires tags sorted).
    /// </summary>
    public void WriteRawTaggedFields(List<RawTaggedField>? fields, ref int index, long belowTag)
    {
        if (fields is null) return;
        while (index < fields.Count && fields[index].Tag < belowTag)
        {
            RawTaggedField field = fields[index++];
            WriteUnsignedVarInt((uint)field.Tag);
            WriteUnsignedVarInt((uint)field.Data.Length);
            WriteRawBytes(field.Data);
        }
    }

    /// <summary>Wire size of preserved unknown tagged fields (tags, sizes and data).</summary>
    public static int SizeOfRawTaggedFields(List<RawTaggedField>? fields)
    {
        if (fields is null) return 0;
        int size = 0;
        for (int i = 0; i < fields.Count; i++)
        {
            RawTaggedField field = fields[i];
            size += SizeOfUnsignedVarInt((uint)field.Tag) + SizeOfUnsignedVarInt((uint)field.Data.Length) + field.Data.Length;
        }
        return size;
    }

    public void WriteRawBytes(ReadOnlySpan<byte> value) => value.CopyTo(Advance(value.Length));
}
