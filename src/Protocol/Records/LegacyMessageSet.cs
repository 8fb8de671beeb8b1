using System.Buffers;
using Broker.Protocol.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// Enumerates the messages of an uncompressed legacy message set (magic 0/1) without copying.
/// A compressed wrapper message appears as one message; expand it with
/// <see cref="LegacyMessageSet.DecompressWrapper"/> and enumerate the result.
/// </summary>
public ref struct LegacyMessageEnumerator
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;
    private LegacyMessage _current;

    public LegacyMessageEnumerator(ReadOnlySpan<byte> messageSet)
    {
        _buffer = messageSet;
        _position = 0;
        _current = default;
        Failed = false;
    }

    /// <summary>A message was malformed or truncated; enumeration stopped there.</summary>
    public bool Failed { get; private set; }

    public readonly LegacyMessage Current => _current;

    public readonly LegacyMessageEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (Failed || _position >= _buffer.Length)
        {
            return false;
        }

        if (!LegacyMessage.TryRead(_buffer.Slice(_position), out _current))
        {
            Failed = true;
            return false;
        }

        _position += _current.SizeInBytes;
        return true;
    }
}

/// <summary>
/// Legacy message sets (magic 0 and 1): validation, decompression of wrapper messages and
/// conversion to a v2 batch. Kafka 4 no longer accepts produce below v3, so these appear only
/// in old log segments and from old replicas; the broker converts them when it must rewrite.
/// LZ4 wrappers of magic 0 used a broken frame header checksum (KafkaLZ4) and are rejected.
/// </summary>
public static class LegacyMessageSet
{
    /// <summary>Decompresses a wrapper message's value (an inner message set) into <paramref name="destination"/>.</summary>
    public static ErrorCode DecompressWrapper(in LegacyMessage wrapper, IBufferWriter<byte> destination, int maxDecompressedBytes)
    {
        CompressionType compression = wrapper.CompressionType;
        if (compression == CompressionType.None || compression == CompressionType.Zstd || wrapper.IsValueNull
            || !CompressionCodecs.TryGet(compression, out ICompressionCodec codec))
        {
            // Zstd needs magic v2 (KIP-110); a wrapper without a value is corrupt.
            return ErrorCode.CorruptMessage;
        }

        return codec.Decompress(wrapper.Value, destination, maxDecompressedBytes);
    }

    /// <summary>Validates one shallow entry (a message or a compressed wrapper) for <see cref="RecordBatchValidator"/>.</summary>
    internal static ErrorCode ValidateEntry(
        ReadOnlySpan<byte> entry,
        int position,
        in RecordValidationOptions options,
        out RecordBatchInfo info,
        out int recordIndex,
        out string message)
    {
        info = default;
        recordIndex = -1;
        if (!LegacyMessage.TryRead(entry, out LegacyMessage outer) || outer.SizeInBytes != entry.Length)
        {
            message = "Legacy message structure is invalid.";
            return ErrorCode.CorruptMessage;
        }

        if (!outer.IsCrcValid)
        {
            message = "Legacy message CRC-32 does not match its contents.";
            return ErrorCode.CorruptMessage;
        }

        int count = 0;
        long maxTimestamp = -1;
        if (outer.CompressionType == CompressionType.None)
        {
            count = 1;
            maxTimestamp = outer.Timestamp;
            if (options.RequireKeys && outer.IsKeyNull)
            {
                message = "Compacted topic cannot accept a record without a key.";
                return ErrorCode.CorruptMessage;
            }
        }
        else
        {
            using var inner = new PooledBufferWriter(Math.Min(options.MaxDecompressedBytes, Math.Max(outer.ValueLength * 4, 1024)));
            ErrorCode error = DecompressWrapper(outer, inner, options.MaxDecompressedBytes);
            if (error != ErrorCode.None)
            {
                message = "Legacy wrapper message does not decompress, or decompresses beyond the allowed size.";
                return error;
            }

            var messages = new LegacyMessageEnumerator(inner.WrittenSpan);
            while (messages.MoveNext())
            {
                LegacyMessage m = messages.Current;
                if (!m.IsCrcValid || m.Magic != outer.Magic || m.CompressionType != CompressionType.None)
                {
                    recordIndex = count;
                    message = "Inner legacy message is corrupt, nested, or has a different magic.";
                    return ErrorCode.CorruptMessage;
                }

                if (options.RequireKeys && m.IsKeyNull)
                {
                    recordIndex = count;
                    message = "Compacted topic cannot accept a record without a key.";
                    return ErrorCode.CorruptMessage;
                }

                maxTimestamp = Math.Max(maxTimestamp, m.Timestamp);
                count++;
            }

            if (messages.Failed || count == 0)
            {
                recordIndex = count;
                message = "Inner legacy message set is malformed or empty.";
                return ErrorCode.CorruptMessage;
            }
        }

        if (outer.TimestampType == TimestampType.LogAppendTime)
        {
            maxTimestamp = outer.Timestamp;
        }

        info = new RecordBatchInfo(
            position,
            entry.Length,
            outer.Magic,
            outer.CompressionType,
            outer.TimestampType,
            outer.Offset,
            count,
            0,
            count - 1,
            -1,
            maxTimestamp,
            RecordBatchHeader.NoProducerId,
            RecordBatchHeader.NoProducerEpoch,
            RecordBatchHeader.NoSequence,
            false,
            false);
        message = string.Empty;
        return ErrorCode.None;
    }

    /// <summary>
    /// Converts a whole legacy message set (wrappers expanded) into one v2 batch with
    /// <paramref name="compressionType"/>. Offset deltas keep the gaps between the messages'
    /// absolute offsets; the batch's base offset is the first message's. Magic 0 messages get
    /// timestamp -1 (NO_TIMESTAMP), as Kafka's up-conversion does. On success the caller owns
    /// <paramref name="batch"/>.
    /// </summary>
    public static ErrorCode ConvertToV2(
        ReadOnlySpan<byte> messageSet,
        CompressionType compressionType,
        int maxDecompressedBytes,
        out PooledBufferWriter? batch)
    {
        batch = null;
        long baseOffset = -1;
        RecordBatchBuilder? builder = null;
        try
        {
            var outer = new LegacyMessageEnumerator(messageSet);
            while (outer.MoveNext())
            {
                LegacyMessage message = outer.Current;
                if (!message.IsCrcValid)
                {
                    return ErrorCode.CorruptMessage;
                }

                if (message.CompressionType == CompressionType.None)
                {
                    ErrorCode error = Add(ref builder, ref baseOffset, compressionType, message, message.Offset);
                    if (error != ErrorCode.None)
                    {
                        return error;
                    }

                    continue;
                }

                using var inner = new PooledBufferWriter(Math.Min(maxDecompressedBytes, Math.Max(message.ValueLength * 4, 1024)));
                ErrorCode decompressError = DecompressWrapper(message, inner, maxDecompressedBytes);
                if (decompressError != ErrorCode.None)
                {
                    return decompressError;
                }

                // Magic 1 inner offsets are relative, the wrapper carries the last absolute offset
                // (KIP-31); magic 0 inner offsets are absolute.
                long lastRelative = 0;
                var scan = new LegacyMessageEnumerator(inner.WrittenSpan);
                while (scan.MoveNext())
                {
                    lastRelative = scan.Current.Offset;
                }

                if (scan.Failed)
                {
                    return ErrorCode.CorruptMessage;
                }

                var messages = new LegacyMessageEnumerator(inner.WrittenSpan);
                while (messages.MoveNext())
                {
                    LegacyMessage m = messages.Current;
                    if (!m.IsCrcValid || m.CompressionType != CompressionType.None)
                    {
                        return ErrorCode.CorruptMessage;
                    }

                    long absolute = message.Magic == 0 ? m.Offset : message.Offset - lastRelative + m.Offset;
                    ErrorCode error = Add(ref builder, ref baseOffset, compressionType, m, absolute);
                    if (error != ErrorCode.None)
                    {
                        return error;
                    }
                }
            }

            if (outer.Failed || builder is null)
            {
                return ErrorCode.CorruptMessage;
            }

            batch = builder.Build();
            return ErrorCode.None;
        }
        finally
        {
            builder?.Dispose();
        }
    }

    private static ErrorCode Add(ref RecordBatchBuilder? builder, ref long baseOffset, CompressionType compressionType, in LegacyMessage message, long absoluteOffset)
    {
        if (builder is null)
        {
            baseOffset = absoluteOffset;
            TimestampType timestampType = message.TimestampType == TimestampType.LogAppendTime ? TimestampType.LogAppendTime : TimestampType.CreateTime;
            builder = new RecordBatchBuilder(compressionType, baseOffset, timestampType: timestampType);
        }

        long delta = absoluteOffset - baseOffset;
        if (delta < 0 || delta > int.MaxValue || (builder.RecordCount > 0 && delta <= builder.LastOffsetDelta))
        {
            return ErrorCode.CorruptMessage;
        }

        builder.AppendWithOffsetDelta((int)delta, message.Timestamp, message.Key, message.IsKeyNull, message.Value, message.IsValueNull);
        return ErrorCode.None;
    }
}
