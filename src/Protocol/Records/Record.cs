namespace Broker.Protocol.Records;

/// <summary>
/// A view of one record inside an uncompressed v2 records section (KIP-98):
/// <code>
/// length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
/// keyLength varint, key, valueLength varint, value, headerCount varint,
/// [headerKeyLength varint, headerKey, headerValueLength varint, headerValue]*
/// </code>
/// Lengths of -1 mean null. Key, value and headers are slices of the input (no copy). Only
/// <see cref="RecordEnumerator"/> creates these, after checking the record's structure.
/// </summary>
public readonly ref struct Record
{
    private readonly ReadOnlySpan<byte> _key;
    private readonly ReadOnlySpan<byte> _value;
    private readonly ReadOnlySpan<byte> _headers;

    internal Record(
        int length,
        int sizeInBytes,
        byte attributes,
        long timestampDelta,
        int offsetDelta,
        int keyLength,
        ReadOnlySpan<byte> key,
        int valueLength,
        ReadOnlySpan<byte> value,
        int headerCount,
        ReadOnlySpan<byte> headers)
    {
        Length = length;
        SizeInBytes = sizeInBytes;
        Attributes = attributes;
        TimestampDelta = timestampDelta;
        OffsetDelta = offsetDelta;
        KeyLength = keyLength;
        _key = key;
        ValueLength = valueLength;
        _value = value;
        HeaderCount = headerCount;
        _headers = headers;
    }

    /// <summary>The encoded body length (the leading varint).</summary>
    public int Length { get; }

    /// <summary>Bytes the record occupies, including its length varint.</summary>
    public int SizeInBytes { get; }

    /// <summary>Unused by Kafka so far; always 0 from current clients.</summary>
    public byte Attributes { get; }

    public long TimestampDelta { get; }

    public int OffsetDelta { get; }

    /// <summary>-1 when the key is null.</summary>
    public int KeyLength { get; }

    public bool IsKeyNull => KeyLength < 0;

    public ReadOnlySpan<byte> Key => _key;

    /// <summary>-1 when the value is null (a tombstone on compacted topics).</summary>
    public int ValueLength { get; }

    public bool IsValueNull => ValueLength < 0;

    public ReadOnlySpan<byte> Value => _value;

    public int HeaderCount { get; }

    /// <summary>Headers, parsed as they are enumerated.</summary>
    public RecordHeaderEnumerator Headers => new(_headers, HeaderCount);

    /// <summary>The record's timestamp given its batch's base timestamp.</summary>
    public long Timestamp(long baseTimestamp) => baseTimestamp + TimestampDelta;

    /// <summary>The record's offset given its batch's base offset.</summary>
    public long Offset(long baseOffset) => baseOffset + OffsetDelta;
}

/// <summary>One record header: a UTF-8 key (never null) and a value (null when length is -1).</summary>
public readonly ref struct RecordHeader
{
    internal RecordHeader(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool isValueNull)
    {
        Key = key;
        Value = value;
        IsValueNull = isValueNull;
    }

    public ReadOnlySpan<byte> Key { get; }

    public ReadOnlySpan<byte> Value { get; }

    public bool IsValueNull { get; }
}

/// <summary>Enumerates a record's headers in place. Use with foreach; no allocation.</summary>
public ref struct RecordHeaderEnumerator
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _count;
    private int _position;
    private int _index;
    private RecordHeader _current;

    internal RecordHeaderEnumerator(ReadOnlySpan<byte> buffer, int count)
    {
        _buffer = buffer;
        _count = count;
        _position = 0;
        _index = 0;
        _current = default;
        Failed = false;
    }

    /// <summary>True when a header was malformed (cannot happen for records the enumerator accepted).</summary>
    public bool Failed { get; private set; }

    public readonly RecordHeader Current => _current;

    public readonly RecordHeaderEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (Failed || _index >= _count)
        {
            return false;
        }

        if (!TryReadHeader(_buffer, ref _position, out _current))
        {
            Failed = true;
            return false;
        }

        _index++;
        return true;
    }

    /// <summary>Reads one header at <paramref name="position"/>; false when malformed.</summary>
    internal static bool TryReadHeader(ReadOnlySpan<byte> buffer, scoped ref int position, out RecordHeader header)
    {
        header = default;
        int p = position;
        if (!RecordVarInt.TryReadVarInt(buffer, ref p, out int keyLength) || keyLength < 0 || keyLength > buffer.Length - p)
        {
            return false;
        }

        ReadOnlySpan<byte> key = buffer.Slice(p, keyLength);
        p += keyLength;
        if (!RecordVarInt.TryReadVarInt(buffer, ref p, out int valueLength) || valueLength < -1 || valueLength > buffer.Length - p)
        {
            return false;
        }

        ReadOnlySpan<byte> value = default;
        if (valueLength > 0)
        {
            value = buffer.Slice(p, valueLength);
            p += valueLength;
        }

        header = new RecordHeader(key, value, valueLength < 0);
        position = p;
        return true;
    }
}
