using System.Buffers.Binary;

namespace Broker.Protocol.Records;

/// <summary>
/// Splits a buffer of consecutive batches (a produce request's records, a fetched log
/// region, a segment) at their length fields: every format since magic 0 starts with
/// [offset int64][length int32], so this works for legacy message sets too; the magic byte
/// of each entry is at offset 16. Nothing inside a batch is checked. A truncated batch at the
/// end is normal in fetch responses (Kafka returns up to max bytes); enumeration stops before
/// it and <see cref="RemainingBytes"/> says how many bytes were left over. An entry whose length
/// field is too small to hold a magic byte sets <see cref="Failed"/>.
/// </summary>
public ref struct RecordBatchEnumerator
{
    /// <summary>Offset + length + the fields up to and including magic (shared by all formats).</summary>
    private const int MinimumEntryBytes = RecordBatchHeader.MagicOffset + 1;

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;
    private ReadOnlySpan<byte> _current;

    public RecordBatchEnumerator(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
        _current = default;
        Failed = false;
    }

    /// <summary>A batch had a length field smaller than any valid format allows.</summary>
    public bool Failed { get; private set; }

    /// <summary>Where <see cref="Current"/> starts in the buffer.</summary>
    public readonly int CurrentPosition => _position - _current.Length;

    /// <summary>Bytes after the last whole batch enumerated (a partial batch, or 0).</summary>
    public readonly int RemainingBytes => _buffer.Length - _position;

    /// <summary>The whole current batch, from its base offset to its last byte.</summary>
    public readonly ReadOnlySpan<byte> Current => _current;

    /// <summary>The magic byte of the current batch (2 for record batches, 0 or 1 for legacy messages).</summary>
    public readonly byte CurrentMagic => _current[RecordBatchHeader.MagicOffset];

    public readonly RecordBatchEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        int remaining = _buffer.Length - _position;
        if (Failed || remaining < RecordBatchHeader.LogOverhead)
        {
            _current = default;
            return false;
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(_buffer.Slice(_position + RecordBatchHeader.BatchLengthOffset));
        if (length < MinimumEntryBytes - RecordBatchHeader.LogOverhead)
        {
            Failed = true;
            _current = default;
            return false;
        }

        if (length > remaining - RecordBatchHeader.LogOverhead)
        {
            _current = default;
            return false;
        }

        _current = _buffer.Slice(_position, length + RecordBatchHeader.LogOverhead);
        _position += _current.Length;
        return true;
    }
}
