using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Broker.Protocol.Compression;

namespace Broker.Protocol.Records;

/// <summary>A record header to append: Kafka header keys are strings, values bytes or null.</summary>
public readonly record struct RecordHeaderData(string Key, byte[]? Value);

/// <summary>
/// Builds one magic v2 record batch: for the broker's own records (internal topics such as
/// __consumer_offsets and __transaction_state, transaction markers) and for converting legacy
/// messages. Records are encoded into a pooled buffer as they are appended; <see cref="Build"/>
/// compresses them if asked, writes the header and CRC, and hands the caller an owned
/// <see cref="PooledBufferWriter"/> holding exactly the batch. Not thread-safe; one batch per builder.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    private readonly CompressionType _compressionType;
    private readonly long _baseOffset;
    private readonly long _producerId;
    private readonly short _producerEpoch;
    private readonly int _baseSequence;
    private readonly bool _isTransactional;
    private readonly bool _isControl;
    private readonly TimestampType _timestampType;
    private readonly int _partitionLeaderEpoch;
    private PooledBufferWriter? _records;
    private long _baseTimestamp;
    private long _maxTimestamp = -1;
    private int _recordCount;
    private int _lastOffsetDelta = -1;

    public RecordBatchBuilder(
        CompressionType compressionType = CompressionType.None,
        long baseOffset = 0,
        long producerId = RecordBatchHeader.NoProducerId,
        short producerEpoch = RecordBatchHeader.NoProducerEpoch,
        int baseSequence = RecordBatchHeader.NoSequence,
        bool isTransactional = false,
        bool isControl = false,
        TimestampType timestampType = TimestampType.CreateTime,
        int partitionLeaderEpoch = RecordBatchHeader.NoPartitionLeaderEpoch)
    {
        if (!CompressionCodecs.TryGet(compressionType, out _))
        {
            throw new ArgumentOutOfRangeException(nameof(compressionType));
        }

        if (isTransactional && producerId < 0)
        {
            throw new ArgumentException("A transactional batch needs a producer id.", nameof(producerId));
        }

        if (timestampType == TimestampType.NoTimestampType)
        {
            throw new ArgumentOutOfRangeException(nameof(timestampType));
        }

        _compressionType = compressionType;
        _baseOffset = baseOffset;
        _producerId = producerId;
        _producerEpoch = producerEpoch;
        _baseSequence = baseSequence;
        _isTransactional = isTransactional;
        _isControl = isControl;
        _timestampType = timestampType;
        _partitionLeaderEpoch = partitionLeaderEpoch;
        _records = new PooledBufferWriter(1024);
    }

    public int RecordCount => _recordCount;

    /// <summary>Offset delta of the last record appended (-1 before the first).</summary>
    public int LastOffsetDelta => _lastOffsetDelta;

    /// <summary>Uncompressed size of the records appended so far (for batch size limits).</summary>
    public int UncompressedRecordsBytes => Records.WrittenCount;

    private PooledBufferWriter Records => _records ?? throw new ObjectDisposedException(nameof(RecordBatchBuilder));

    /// <summary>Appends a record with the next offset delta; null key/value as byte[] null.</summary>
    public void Append(long timestamp, byte[]? key, byte[]? value, ReadOnlySpan<RecordHeaderData> headers = default) =>
        Append(timestamp, key, key is null, value, value is null, headers);

    /// <summary>Appends a record with the next offset delta (spans cannot be null, hence the flags).</summary>
    public void Append(
        long timestamp,
        ReadOnlySpan<byte> key,
        bool keyIsNull,
        ReadOnlySpan<byte> value,
        bool valueIsNull,
        ReadOnlySpan<RecordHeaderData> headers = default) =>
        AppendWithOffsetDelta(_lastOffsetDelta + 1, timestamp, key, keyIsNull, value, valueIsNull, headers);

    /// <summary>
    /// Appends with an explicit offset delta, which must be greater than the previous one
    /// (gaps appear when converting compacted legacy message sets).
    /// </summary>
    public void AppendWithOffsetDelta(
        int offsetDelta,
        long timestamp,
        ReadOnlySpan<byte> key,
        bool keyIsNull,
        ReadOnlySpan<byte> value,
        bool valueIsNull,
        ReadOnlySpan<RecordHeaderData> headers = default)
    {
        if (offsetDelta <= _lastOffsetDelta)
        {
            throw new ArgumentOutOfRangeException(nameof(offsetDelta), "Offset deltas must increase.");
        }

        if (_recordCount == 0)
        {
            // Kafka uses the first record's timestamp as the batch's base timestamp.
            _baseTimestamp = timestamp;
        }

        long timestampDelta = timestamp - _baseTimestamp;
        int keyLength = keyIsNull ? -1 : key.Length;
        int valueLength = valueIsNull ? -1 : value.Length;

        int bodyLength = 1
            + RecordVarInt.SizeOfVarLong(timestampDelta)
            + RecordVarInt.SizeOfVarInt(offsetDelta)
            + RecordVarInt.SizeOfVarInt(keyLength) + Math.Max(keyLength, 0)
            + RecordVarInt.SizeOfVarInt(valueLength) + Math.Max(valueLength, 0)
            + RecordVarInt.SizeOfVarInt(headers.Length);
        foreach (RecordHeaderData header in headers)
        {
            int headerKeyLength = Encoding.UTF8.GetByteCount(header.Key);
            int headerValueLength = header.Value is null ? -1 : header.Value.Length;
            bodyLength += RecordVarInt.SizeOfVarInt(headerKeyLength) + headerKeyLength
                + RecordVarInt.SizeOfVarInt(headerValueLength) + Math.Max(headerValueLength, 0);
        }

        int total = RecordVarInt.SizeOfVarInt(bodyLength) + bodyLength;
        Span<byte> span = Records.GetSpan(total);
        int p = RecordVarInt.WriteVarInt(span, bodyLength);
        span[p++] = 0; // attributes: unused in v2 records
        p += RecordVarInt.WriteVarLong(span.Slice(p), timestampDelta);
        p += RecordVarInt.WriteVarInt(span.Slice(p), offsetDelta);
        p += RecordVarInt.WriteVarInt(span.Slice(p), keyLength);
        if (keyLength > 0)
        {
            key.CopyTo(span.Slice(p));
            p += keyLength;
        }

        p += RecordVarInt.WriteVarInt(span.Slice(p), valueLength);
        if (valueLength > 0)
        {
            value.CopyTo(span.Slice(p));
            p += valueLength;
        }

        p += RecordVarInt.WriteVarInt(span.Slice(p), headers.Length);
        foreach (RecordHeaderData header in headers)
        {
            int headerKeyLength = Encoding.UTF8.GetByteCount(header.Key);
            p += RecordVarInt.WriteVarInt(span.Slice(p), headerKeyLength);
            p += Encoding.UTF8.GetBytes(header.Key, span.Slice(p));
            int headerValueLength = header.Value is null ? -1 : header.Value.Length;
            p += RecordVarInt.WriteVarInt(span.Slice(p), headerValueLength);
            if (headerValueLength > 0)
            {
                header.Value.CopyTo(span.Slice(p));
                p += headerValueLength;
            }
        }

        Debug.Assert(p == total, "record size computed before writing");
        Records.Advance(total);
        _recordCount++;
        _lastOffsetDelta = offsetDelta;
        _maxTimestamp = _recordCount == 1 ? timestamp : Math.Max(_maxTimestamp, timestamp);
    }

    /// <summary>
    /// Appends an end-transaction control record (Kafka EndTransactionMarker): key = version 0,
    /// type (0 abort, 1 commit); value = version 0, coordinator epoch. The builder must have
    /// been created with isControl and isTransactional set.
    /// </summary>
    public void AppendEndTxnMarker(long timestamp, bool commit, int coordinatorEpoch)
    {
        if (!_isControl || !_isTransactional)
        {
            throw new InvalidOperationException("Transaction markers go in transactional control batches.");
        }

        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteInt16BigEndian(key, ControlRecordVersion);
        BinaryPrimitives.WriteInt16BigEndian(key.Slice(2), commit ? (short)1 : (short)0);
        Span<byte> value = stackalloc byte[6];
        BinaryPrimitives.WriteInt16BigEndian(value, ControlRecordVersion);
        BinaryPrimitives.WriteInt32BigEndian(value.Slice(2), coordinatorEpoch);
        Append(timestamp, key, false, value, false);
    }

    /// <summary>Control record key/value version written by Kafka.</summary>
    public const short ControlRecordVersion = 0;

    /// <summary>
    /// Writes the batch into a new pooled buffer the caller owns (dispose it to return the array).
    /// The builder is finished afterwards.
    /// </summary>
    public PooledBufferWriter Build()
    {
        PooledBufferWriter records = Records;
        if (_recordCount == 0)
        {
            throw new InvalidOperationException("A record batch needs at least one record.");
        }

        var output = new PooledBufferWriter(RecordBatchHeader.HeaderSize + records.WrittenCount + 64);
        try
        {
            output.GetSpan(RecordBatchHeader.HeaderSize).Slice(0, RecordBatchHeader.HeaderSize).Clear();
            output.Advance(RecordBatchHeader.HeaderSize);
            CompressionCodecs.Get(_compressionType).Compress(records.WrittenSpan, output);

            Span<byte> batch = output.WrittenSpanMutable;
            BinaryPrimitives.WriteInt64BigEndian(batch.Slice(RecordBatchHeader.BaseOffsetOffset), _baseOffset);
            BinaryPrimitives.WriteInt32BigEndian(batch.Slice(RecordBatchHeader.BatchLengthOffset), batch.Length - RecordBatchHeader.LogOverhead);
            BinaryPrimitives.WriteInt32BigEndian(batch.Slice(RecordBatchHeader.PartitionLeaderEpochOffset), _partitionLeaderEpoch);
            batch[RecordBatchHeader.MagicOffset] = RecordBatchHeader.MagicV2;
            short attributes = RecordBatchHeader.MakeAttributes(_compressionType, _timestampType, _isTransactional, _isControl);
            BinaryPrimitives.WriteInt16BigEndian(batch.Slice(RecordBatchHeader.AttributesOffset), attributes);
            BinaryPrimitives.WriteInt32BigEndian(batch.Slice(RecordBatchHeader.LastOffsetDeltaOffset), _lastOffsetDelta);
            BinaryPrimitives.WriteInt64BigEndian(batch.Slice(RecordBatchHeader.BaseTimestampOffset), _baseTimestamp);
            BinaryPrimitives.WriteInt64BigEndian(batch.Slice(RecordBatchHeader.MaxTimestampOffset), _maxTimestamp);
            BinaryPrimitives.WriteInt64BigEndian(batch.Slice(RecordBatchHeader.ProducerIdOffset), _producerId);
            BinaryPrimitives.WriteInt16BigEndian(batch.Slice(RecordBatchHeader.ProducerEpochOffset), _producerEpoch);
            BinaryPrimitives.WriteInt32BigEndian(batch.Slice(RecordBatchHeader.BaseSequenceOffset), _baseSequence);
            BinaryPrimitives.WriteInt32BigEndian(batch.Slice(RecordBatchHeader.RecordCountOffset), _recordCount);
            RecordBatchHeader.UpdateCrc(batch);
        }
        catch
        {
            output.Dispose();
            throw;
        }

        Dispose();
        return output;
    }

    /// <summary>Builds a single end-transaction marker batch (what WriteTxnMarkers appends).</summary>
    public static PooledBufferWriter BuildEndTxnMarker(
        long producerId,
        short producerEpoch,
        int coordinatorEpoch,
        bool commit,
        long timestamp,
        long baseOffset = 0,
        int partitionLeaderEpoch = RecordBatchHeader.NoPartitionLeaderEpoch)
    {
        using var builder = new RecordBatchBuilder(
            CompressionType.None,
            baseOffset,
            producerId,
            producerEpoch,
            RecordBatchHeader.NoSequence,
            isTransactional: true,
            isControl: true,
            partitionLeaderEpoch: partitionLeaderEpoch);
        builder.AppendEndTxnMarker(timestamp, commit, coordinatorEpoch);
        return builder.Build();
    }

    public void Dispose()
    {
        _records?.Dispose();
        _records = null;
    }
}
