using System.Buffers.Binary;
using Broker.Protocol;
using Broker.Protocol.Records;
using Broker.Storage.Producer;

namespace Broker.Storage;

/// <summary>Append-path checks: batch structure and idempotent producer sequences (Kafka analyzeAndValidateProducerState).</summary>
public sealed partial class PartitionLog
{
    /// <summary>Structural checks the append path relies on (the broker's validator checked CRC and records).</summary>
    private ErrorCode ScanForAppend(ReadOnlySpan<byte> batches, out bool idempotent, out int recordCount)
    {
        idempotent = false;
        recordCount = 0;
        if (batches.IsEmpty)
        {
            return ErrorCode.InvalidRecord;
        }

        int position = 0;
        while (position < batches.Length)
        {
            if (!RecordBatchHeader.TryRead(batches.Slice(position), out RecordBatchHeader header) || header.Magic != RecordBatchHeader.MagicV2)
            {
                return ErrorCode.CorruptMessage;
            }

            int size = header.SizeInBytes;
            if (header.BatchLength < RecordBatchHeader.HeaderSize - RecordBatchHeader.LogOverhead || size > batches.Length - position || header.LastOffsetDelta < 0)
            {
                return ErrorCode.CorruptMessage;
            }

            if (size > Config.MaxMessageBytes)
            {
                return ErrorCode.MessageTooLarge;
            }

            if (size > Config.SegmentBytes)
            {
                return ErrorCode.RecordListTooLarge;
            }

            recordCount += header.RecordCount;
            idempotent |= header.ProducerId >= 0;
            position += size;
        }

        return ErrorCode.None;
    }

    private SequenceCheckResult CheckProducerSequences(ReadOnlySpan<byte> batches)
    {
        long previousProducerId = -1;
        short previousEpoch = -1;
        int previousLastSequence = -1;
        int position = 0;
        SequenceCheckResult result = SequenceCheckResult.Ok;
        while (position < batches.Length)
        {
            var header = new RecordBatchHeader(batches.Slice(position));
            position += header.SizeInBytes;
            if (header.ProducerId < 0 || header.IsControl)
            {
                continue;
            }

            SequenceCheckResult check;
            if (header.ProducerId == previousProducerId && header.ProducerEpoch == previousEpoch)
            {
                // A second batch of the same producer in one append follows the first one.
                check = ProducerStateManager.InSequence(previousLastSequence, header.BaseSequence)
                    ? SequenceCheckResult.Ok
                    : SequenceCheckResult.Failed(ErrorCode.OutOfOrderSequenceNumber);
            }
            else
            {
                check = ProducerState.CheckSequence(header.ProducerId, header.ProducerEpoch, header.BaseSequence, header.LastSequence);
            }

            if (check.Error != ErrorCode.None || check.IsDuplicate)
            {
                return check;
            }

            previousProducerId = header.ProducerId;
            previousEpoch = header.ProducerEpoch;
            previousLastSequence = header.LastSequence;
        }

        return result;
    }

    private void UpdateProducerState(ReadOnlySpan<byte> batches)
    {
        int position = 0;
        while (position < batches.Length)
        {
            var info = new BatchInfo(batches.Slice(position), position);
            position += info.SizeInBytes;
            if (info.ProducerId >= 0)
            {
                ProducerState.Update(info);
            }
        }
    }
}
