using System.Diagnostics;

namespace Broker.Protocol.Records;

/// <summary>
/// Enumerates the records of an uncompressed v2 records section (the bytes after the 61-byte
/// header, or the decompressed payload of a compressed batch) without allocating. Each
/// record's structure is checked as it is reached: the body must be exactly as long as its
/// length prefix says (Kafka DefaultRecord.readFrom). On a malformed record enumeration
/// stops and <see cref="Failed"/> is set; check it after the loop.
/// </summary>
public ref struct RecordEnumerator
{
    private readonly ReadOnlySpan<byte> _records;
    private int _position;
    private Record _current;

    public RecordEnumerator(ReadOnlySpan<byte> records)
    {
        _records = records;
        _position = 0;
        _current = default;
        Failed = false;
        Count = 0;
    }

    /// <summary>The records of an uncompressed batch (the caller has checked BatchLength is in bounds).</summary>
    public static RecordEnumerator ForBatch(ReadOnlySpan<byte> batch)
    {
        var header = new RecordBatchHeader(batch);
        Debug.Assert(header.CompressionType == Compression.CompressionType.None, "decompress first");
        return new RecordEnumerator(batch.Slice(RecordBatchHeader.RecordsOffset, header.SizeInBytes - RecordBatchHeader.RecordsOffset));
    }

    /// <summary>A record was malformed; enumeration stopped there.</summary>
    public bool Failed { get; private set; }

    /// <summary>Records enumerated so far.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes after the last record enumerated.</summary>
    public readonly int RemainingBytes => _records.Length - _position;

    public readonly Record Current => _current;

    public readonly RecordEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (Failed || _position >= _records.Length)
        {
            return false;
        }

        if (!TryReadRecord(_records, ref _position, out _current))
        {
            Failed = true;
            return false;
        }

        Count++;
        return true;
    }

    private static bool TryReadRecord(ReadOnlySpan<byte> buffer, scoped ref int position, out Record record)
    {
        record = default;
        int start = position;
        int p = position;
        if (!RecordVarInt.TryReadVarInt(buffer, ref p, out int length) || length <= 0 || length > buffer.Length - p)
        {
            return false;
        }

        ReadOnlySpan<byte> body = buffer.Slice(p, length);
        int end = p + length;
        int b = 0;
        if (body.Length < 1)
        {
            return false;
        }

        byte attributes = body[b++];
        if (!RecordVarInt.TryReadVarLong(body, ref b, out long timestampDelta)
            || !RecordVarInt.TryReadVarInt(body, ref b, out int offsetDelta)
            || !RecordVarInt.TryReadVarInt(body, ref b, out int keyLength)
            || keyLength < -1 || keyLength > body.Length - b)
        {
            return false;
        }

        ReadOnlySpan<byte> key = default;
        if (keyLength > 0)
        {
            key = body.Slice(b, keyLength);
            b += keyLength;
        }

        if (!RecordVarInt.TryReadVarInt(body, ref b, out int valueLength) || valueLength < -1 || valueLength > body.Length - b)
        {
            return false;
        }

        ReadOnlySpan<byte> value = default;
        if (valueLength > 0)
        {
            value = body.Slice(b, valueLength);
            b += valueLength;
        }

        // Each header takes at least two bytes, which bounds the count before the walk.
        if (!RecordVarInt.TryReadVarInt(body, ref b, out int headerCount) || headerCount < 0 || headerCount > (body.Length - b) / 2)
        {
            return false;
        }

        int headersStart = b;
        for (int i = 0; i < headerCount; i++)
        {
            if (!RecordHeaderEnumerator.TryReadHeader(body, ref b, out _))
            {
                return false;
            }
        }

        if (b != body.Length)
        {
            return false;
        }

        record = new Record(
            length,
            end - start,
            attributes,
            timestampDelta,
            offsetDelta,
            keyLength,
            key,
            valueLength,
            value,
            headerCount,
            body.Slice(headersStart));
        position = end;
        return true;
    }
}
