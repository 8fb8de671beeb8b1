using System.Collections.Generic;
using Broker.Protocol.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// Validates a records blob before it is appended, following Kafka's ProduceRequest.validateRecords,
/// DefaultRecordBatch.ensureValid and LogValidator. Per batch: framing and size fields, magic,
/// CRC-32C, attributes, producer fields, record count against last offset delta, then every
/// record's structure (decompressing compressed batches into a pooled buffer, bounded by
/// <see cref="RecordValidationOptions.MaxDecompressedBytes"/>) and offset deltas. Error codes:
/// CORRUPT_MESSAGE for bytes that do not parse or fail the CRC, INVALID_RECORD for well-formed
/// data that breaks a rule, MESSAGE_TOO_LARGE for max.message.bytes, UNSUPPORTED_COMPRESSION_TYPE
/// for zstd before produce v7. Nothing is allocated per record; a compressed batch rents one
/// buffer. Trailing bytes after the last batch are CORRUPT_MESSAGE (Kafka trims them silently;
/// a well-behaved client never sends them, so refusing is safer).
/// </summary>
public static class RecordBatchValidator
{
    /// <summary>Validates with default options (a current client produce).</summary>
    public static ErrorCode Validate(ReadOnlySpan<byte> batches) =>
        Validate(batches, new RecordValidationOptions(), null, out _);

    /// <summary>
    /// Validates every batch; on success appends one <see cref="RecordBatchInfo"/> per batch to
    /// <paramref name="batchInfos"/> when given (it is not cleared first).
    /// </summary>
    public static ErrorCode Validate(
        ReadOnlySpan<byte> batches,
        in RecordValidationOptions options,
        List<RecordBatchInfo>? batchInfos,
        out RecordValidationFailure failure)
    {
        failure = RecordValidationFailure.None;
        var enumerator = new RecordBatchEnumerator(batches);
        int batchIndex = 0;
        while (enumerator.MoveNext())
        {
            if (options.RequireSingleBatch && batchIndex > 0)
            {
                return Fail(ErrorCode.InvalidRecord, batchIndex, -1, "Produce requests must contain exactly one record batch per partition.", out failure);
            }

            ReadOnlySpan<byte> batch = enumerator.Current;
            int position = enumerator.CurrentPosition;
            ErrorCode error = ValidateOne(batch, position, options, out RecordBatchInfo info, out int recordIndex, out string message);
            if (error != ErrorCode.None)
            {
                return Fail(error, batchIndex, recordIndex, message, out failure);
            }

            batchInfos?.Add(info);
            batchIndex++;
        }

        if (enumerator.Failed)
        {
            return Fail(ErrorCode.CorruptMessage, batchIndex, -1, "Record batch length is smaller than the minimum batch size.", out failure);
        }

        if (enumerator.RemainingBytes != 0)
        {
            return Fail(ErrorCode.CorruptMessage, batchIndex, -1, "Records end with a truncated batch or trailing bytes.", out failure);
        }

        if (batchIndex == 0 && options.RequireSingleBatch)
        {
            return Fail(ErrorCode.InvalidRecord, 0, -1, "Produce requests must contain exactly one record batch per partition.", out failure);
        }

        return ErrorCode.None;
    }

    /// <summary>Validates one whole batch (as split by <see cref="RecordBatchEnumerator"/>).</summary>
    public static ErrorCode ValidateBatch(ReadOnlySpan<byte> batch, in RecordValidationOptions options, out RecordBatchInfo info) =>
        ValidateOne(batch, 0, options, out info, out _, out _);

    private static ErrorCode Fail(ErrorCode error, int batchIndex, int recordIndex, string message, out RecordValidationFailure failure)
    {
        failure = new RecordValidationFailure(batchIndex, recordIndex, message);
        return error;
    }

    private static ErrorCode ValidateOne(
        ReadOnlySpan<byte> batch,
        int position,
        in RecordValidationOptions options,
        out RecordBatchInfo info,
        out int recordIndex,
        out string message)
    {
        info = default;
        recordIndex = -1;
        if (batch.Length > options.MaxBatchBytes)
        {
            message = "Record batch is larger than max.message.bytes.";
            return ErrorCode.MessageTooLarge;
        }

        byte magic = batch[RecordBatchHeader.MagicOffset];
        if (magic > RecordBatchHeader.MagicV2)
        {
            message = "Unknown record batch magic.";
            return ErrorCode.CorruptMessage;
        }

        if (magic < RecordBatchHeader.MagicV2)
        {
            if (options.RequireMagicV2)
            {
                message = "Produce requests v3 and later must contain record batches with magic v2.";
                return ErrorCode.InvalidRecord;
            }

            return LegacyMessageSet.ValidateEntry(batch, position, options, out info, out recordIndex, out message);
        }

        if (!RecordBatchHeader.TryRead(batch, out RecordBatchHeader header))
        {
            message = "Record batch is smaller than the v2 header.";
            return ErrorCode.CorruptMessage;
        }

        if (header.Crc != header.ComputeCrc())
        {
            message = "Record batch CRC-32C does not match its contents.";
            return ErrorCode.CorruptMessage;
        }

        CompressionType compression = header.CompressionType;
        if (!CompressionCodecs.TryGet(compression, out ICompressionCodec codec))
        {
            message = "Record batch has an unknown compression type.";
            return ErrorCode.CorruptMessage;
        }

        if (compression == CompressionType.Zstd && !options.AllowZstd)
        {
            message = "Zstd compression needs produce v7 or later.";
            return ErrorCode.UnsupportedCompressionType;
        }

        int recordCount = header.RecordCount;
        int lastOffsetDelta = header.LastOffsetDelta;
        if (options.FromClient)
        {
            if (header.IsControl)
            {
                message = "Clients may not send control batches.";
                return ErrorCode.InvalidRecord;
            }

            if (header.BaseOffset != 0)
            {
                message = "Produced record batches must have base offset 0.";
                return ErrorCode.InvalidRecord;
            }

            if (recordCount <= 0 || lastOffsetDelta < 0 || recordCount != lastOffsetDelta + 1)
            {
                message = "Record count does not match the last offset delta.";
                return ErrorCode.InvalidRecord;
            }
        }
        else if (recordCount < 0 || lastOffsetDelta < -1 || recordCount > lastOffsetDelta + 1)
        {
            // Compaction leaves gaps (count below lastOffsetDelta + 1) but never more records than offsets.
            message = "Record count does not match the last offset delta.";
            return ErrorCode.InvalidRecord;
        }

        if (header.ProducerId >= 0 && header.BaseSequence < 0 && options.FromClient)
        {
            message = "Idempotent record batch has an invalid base sequence.";
            return ErrorCode.InvalidRecord;
        }

        if (header.IsTransactional && header.ProducerId < 0)
        {
            message = "Transactional record batch has no producer id.";
            return ErrorCode.InvalidRecord;
        }

        ReadOnlySpan<byte> recordsSection = batch.Slice(RecordBatchHeader.RecordsOffset);
        PooledBufferWriter? decompressed = null;
        try
        {
            if (compression != CompressionType.None)
            {
                decompressed = new PooledBufferWriter(Math.Min(options.MaxDecompressedBytes, Math.Max(recordsSection.Length * 4, 1024)));
                ErrorCode decompressError = codec.Decompress(recordsSection, decompressed, options.MaxDecompressedBytes);
                if (decompressError != ErrorCode.None)
                {
                    message = "Record batch does not decompress, or decompresses beyond the allowed size.";
                    return decompressError;
                }

                recordsSection = decompressed.WrittenSpan;
            }

            long baseTimestamp = header.BaseTimestamp;

            // Kafka checks CreateTime timestamps only; LogAppendTime batches get the broker's clock.
            bool checkTimestamps = header.TimestampType == TimestampType.CreateTime && !header.IsControl
                && (options.MinTimestamp != long.MinValue || options.MaxTimestamp != long.MaxValue);
            long maxTimestamp = -1;
            int firstOffsetDelta = -1;
            int previousOffsetDelta = -1;
            int index = 0;
            var records = new RecordEnumerator(recordsSection);
            while (records.MoveNext())
            {
                Record record = records.Current;
                int offsetDelta = record.OffsetDelta;
                bool offsetOk = options.FromClient
                    ? offsetDelta == index
                    : offsetDelta > previousOffsetDelta && offsetDelta <= lastOffsetDelta;
                if (!offsetOk)
                {
                    recordIndex = index;
                    message = "Record offset deltas are not consecutive from 0.";
                    return ErrorCode.InvalidRecord;
                }

                if (options.RequireKeys && record.IsKeyNull && !header.IsControl)
                {
                    recordIndex = index;
                    message = "Compacted topic cannot accept a record without a key.";
                    return ErrorCode.CorruptMessage;
                }

                if (index == 0)
                {
                    firstOffsetDelta = offsetDelta;
                }

                long timestamp = baseTimestamp + record.TimestampDelta;
                if (checkTimestamps && (timestamp < options.MinTimestamp || timestamp > options.MaxTimestamp))
                {
                    recordIndex = index;
                    message = "Record timestamp is out of the range allowed by message.timestamp.before/after.max.ms.";
                    return ErrorCode.InvalidTimestamp;
                }

                if (timestamp > maxTimestamp)
                {
                    maxTimestamp = timestamp;
                }

                previousOffsetDelta = offsetDelta;
                index++;
            }

            if (records.Failed)
            {
                recordIndex = index;
                message = "Record structure is invalid.";
                return ErrorCode.CorruptMessage;
            }

            if (index != recordCount)
            {
                recordIndex = index;
                message = "Record count in the batch header does not match the records.";
                return ErrorCode.CorruptMessage;
            }

            if (header.TimestampType == TimestampType.LogAppendTime || recordCount == 0)
            {
                maxTimestamp = header.MaxTimestamp;
            }

            info = new RecordBatchInfo(
                position,
                batch.Length,
                RecordBatchHeader.MagicV2,
                compression,
                header.TimestampType,
                header.BaseOffset,
                recordCount,
                firstOffsetDelta,
                lastOffsetDelta,
                baseTimestamp,
                maxTimestamp,
                header.ProducerId,
                header.ProducerEpoch,
                header.BaseSequence,
                header.IsTransactional,
                header.IsControl);
            message = string.Empty;
            return ErrorCode.None;
        }
        finally
        {
            decompressed?.Dispose();
        }
    }
}
