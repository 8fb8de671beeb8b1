using System.Buffers.Binary;
using System.Diagnostics;
using Broker.Protocol.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// A read-only view of the 61-byte header of a magic v2 record batch (KIP-98), big-endian:
/// <code>
///  0 BaseOffset int64            8 BatchLength int32        12 PartitionLeaderEpoch int32
/// 16 Magic int8                 17 Crc uint32 (CRC-32C of bytes 21..end of batch)
/// 21 Attributes int16           23 LastOffsetDelta int32    27 BaseTimestamp int64
/// 35 MaxTimestamp int64         43 ProducerId int64         51 ProducerEpoch int16
/// 53 BaseSequence int32         57 RecordCount int32        61 records...
/// </code>
/// BatchLength counts the bytes after itself, so a batch occupies BatchLength + 12 bytes.
/// The view does not validate anything (see <see cref="RecordBatchValidator"/>); it only needs
/// the 61 header bytes. The broker rewrites BaseOffset and PartitionLeaderEpoch in place on
/// append without touching the CRC because both lie before the attributes field; rewriting the
/// max timestamp or timestamp type (LogAppendTime topics) needs <see cref="UpdateCrc"/>.
/// </summary>
public readonly ref struct RecordBatchHeader
{
    public const int BaseOffsetOffset = 0;
    public const int BatchLengthOffset = 8;
    public const int PartitionLeaderEpochOffset = 12;
    public const int MagicOffset = 16;
    public const int CrcOffset = 17;
    public const int AttributesOffset = 21;
    public const int LastOffsetDeltaOffset = 23;
    public const int BaseTimestampOffset = 27;
    public const int MaxTimestampOffset = 35;
    public const int ProducerIdOffset = 43;
    public const int ProducerEpochOffset = 51;
    public const int BaseSequenceOffset = 53;
    public const int RecordCountOffset = 57;
    public const int RecordsOffset = 61;

    /// <summary>Size of the v2 header; also the smallest valid batch (no records).</summary>
    public const int HeaderSize = 61;

    /// <summary>BaseOffset + BatchLength: the bytes not counted by BatchLength (Kafka LOG_OVERHEAD).</summary>
    public const int LogOverhead = 12;

    /// <summary>The magic byte of the current format.</summary>
    public const byte MagicV2 = 2;

    public const short CompressionCodecMask = 0x07;
    public const short TimestampTypeMask = 0x08;
    public const short TransactionalFlagMask = 0x10;
    public const short ControlFlagMask = 0x20;
    public const short DeleteHorizonFlagMask = 0x40;

    /// <summary>ProducerId/ProducerEpoch/BaseSequence of a batch without an idempotent producer.</summary>
    public const long NoProducerId = -1;
    public const short NoProducerEpoch = -1;
    public const int NoSequence = -1;

    /// <summary>PartitionLeaderEpoch written by producers (the broker overwrites it).</summary>
    public const int NoPartitionLeaderEpoch = -1;

    private readonly ReadOnlySpan<byte> _buffer;

    /// <summary>Views the header at the start of <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">fewer than 61 bytes; use <see cref="TryRead"/> on untrusted input.</exception>
    public RecordBatchHeader(ReadOnlySpan<byte> batch)
    {
        if (batch.Length < HeaderSize)
        {
            throw new ArgumentException($"A v2 record batch header needs {HeaderSize} bytes, got {batch.Length}.", nameof(batch));
        }

        _buffer = batch;
    }

    /// <summary>False when <paramref name="batch"/> is shorter than the header.</summary>
    public static bool TryRead(ReadOnlySpan<byte> batch, out RecordBatchHeader header)
    {
        if (batch.Length < HeaderSize)
        {
            header = default;
            return false;
        }

        header = new RecordBatchHeader(batch);
        return true;
    }

    /// <summary>The bytes this view was created over (the batch, possibly followed by more).</summary>
    public ReadOnlySpan<byte> Buffer => _buffer;

    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(_buffer.Slice(BaseOffsetOffset));

    public int BatchLength => BinaryPrimitives.ReadInt32BigEndian(_buffer.Slice(BatchLengthOffset));

    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(_buffer.Slice(PartitionLeaderEpochOffset));

    public byte Magic => _buffer[MagicOffset];

    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(CrcOffset));

    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(_buffer.Slice(AttributesOffset));

    public CompressionType CompressionType => (CompressionType)(Attributes & CompressionCodecMask);

    public TimestampType TimestampType =>
        (Attributes & TimestampTypeMask) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;

    public bool IsTransactional => (Attributes & TransactionalFlagMask) != 0;

    public bool IsControl => (Attributes & ControlFlagMask) != 0;

    /// <summary>KIP-534: BaseTimestamp holds the delete horizon of a compacted batch with tombstones.</summary>
    public bool HasDeleteHorizon => (Attributes & DeleteHorizonFlagMask) != 0;

    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(_buffer.Slice(LastOffsetDeltaOffset));

    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(_buffer.Slice(BaseTimestampOffset));

    /// <summary>Kafka's older name for <see cref="BaseTimestamp"/>.</summary>
    public long FirstTimestamp => BaseTimestamp;

    /// <summary>The delete horizon (ms) when <see cref="HasDeleteHorizon"/>, else -1 (Kafka RecordBatch.NO_TIMESTAMP).</summary>
    public long DeleteHorizonMs => HasDeleteHorizon ? BaseTimestamp : -1;

    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(_buffer.Slice(MaxTimestampOffset));

    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(_buffer.Slice(ProducerIdOffset));

    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(_buffer.Slice(ProducerEpochOffset));

    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(_buffer.Slice(BaseSequenceOffset));

    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(_buffer.Slice(RecordCountOffset));

    public long LastOffset => BaseOffset + LastOffsetDelta;

    /// <summary>Bytes the whole batch occupies: BatchLength + 12.</summary>
    public int SizeInBytes => BatchLength + LogOverhead;

    /// <summary>
    /// The last sequence number of an idempotent batch; sequences wrap at int.MaxValue
    /// (Kafka DefaultRecordBatch.incrementSequence).
    /// </summary>
    public int LastSequence
    {
        get
        {
            int baseSequence = BaseSequence;
            if (baseSequence == NoSequence)
            {
                return NoSequence;
            }

            long last = (long)baseSequence + LastOffsetDelta;
            return last > int.MaxValue ? (int)(last - int.MaxValue - 1) : (int)last;
        }
    }

    /// <summary>
    /// CRC-32C of bytes 21..SizeInBytes. The view must cover the whole batch, and BatchLength must
    /// already be known to be within bounds (the validator checks it before calling this).
    /// </summary>
    public uint ComputeCrc()
    {
        int size = SizeInBytes;
        Debug.Assert(size >= HeaderSize && size <= _buffer.Length, "batch length checked by the caller");
        return Crc32C.Compute(_buffer.Slice(AttributesOffset, size - AttributesOffset));
    }

    /// <summary>True when the stored CRC matches the batch bytes (see <see cref="ComputeCrc"/>).</summary>
    public bool IsCrcValid => ComputeCrc() == Crc;

    // In-place rewrites. Each takes the batch's own bytes (at least the header).

    /// <summary>Outside the CRC: no recompute needed.</summary>
    public static void SetBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch.Slice(BaseOffsetOffset), baseOffset);

    /// <summary>Outside the CRC: no recompute needed.</summary>
    public static void SetPartitionLeaderEpoch(Span<byte> batch, int partitionLeaderEpoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch.Slice(PartitionLeaderEpochOffset), partitionLeaderEpoch);

    /// <summary>Inside the CRC: call <see cref="UpdateCrc"/> afterwards.</summary>
    public static void SetMaxTimestamp(Span<byte> batch, long maxTimestamp) =>
        BinaryPrimitives.WriteInt64BigEndian(batch.Slice(MaxTimestampOffset), maxTimestamp);

    /// <summary>
    /// Sets or clears the LogAppendTime bit (Kafka sets it, plus MaxTimestamp, for topics with
    /// message.timestamp.type=LogAppendTime). Inside the CRC: call <see cref="UpdateCrc"/> afterwards.
    /// </summary>
    public static void SetTimestampType(Span<byte> batch, TimestampType timestampType)
    {
        Debug.Assert(timestampType != TimestampType.NoTimestampType, "v2 batches always have a timestamp type");
        short attributes = BinaryPrimitives.ReadInt16BigEndian(batch.Slice(AttributesOffset));
        attributes = timestampType == TimestampType.LogAppendTime
            ? (short)(attributes | TimestampTypeMask)
            : (short)(attributes & ~TimestampTypeMask);
        BinaryPrimitives.WriteInt16BigEndian(batch.Slice(AttributesOffset), attributes);
    }

    /// <summary>Recomputes and stores the CRC; <paramref name="batch"/> must hold the whole batch.</summary>
    public static void UpdateCrc(Span<byte> batch)
    {
        int size = BinaryPrimitives.ReadInt32BigEndian(batch.Slice(BatchLengthOffset)) + LogOverhead;
        if (size < HeaderSize || size > batch.Length)
        {
            throw new ArgumentException($"Batch length {size} is outside the {batch.Length} bytes given.", nameof(batch));
        }

        uint crc = Crc32C.Compute(batch.Slice(AttributesOffset, size - AttributesOffset));
        BinaryPrimitives.WriteUInt32BigEndian(batch.Slice(CrcOffset), crc);
    }

    /// <summary>Attributes for a batch with the given properties (timestamp type CreateTime unless set).</summary>
    public static short MakeAttributes(
        CompressionType compressionType,
        TimestampType timestampType = TimestampType.CreateTime,
        bool isTransactional = false,
        bool isControl = false,
        bool hasDeleteHorizon = false)
    {
        int attributes = (int)compressionType & CompressionCodecMask;
        if (timestampType == TimestampType.LogAppendTime)
        {
            attributes |= TimestampTypeMask;
        }

        if (isTransactional)
        {
            attributes |= TransactionalFlagMask;
        }

        if (isControl)
        {
            attributes |= ControlFlagMask;
        }

        if (hasDeleteHorizon)
        {
            attributes |= DeleteHorizonFlagMask;
        }

        return (short)attributes;
    }
}
