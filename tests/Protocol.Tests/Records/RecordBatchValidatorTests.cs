using System.Buffers.Binary;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Protocol.Tests.Records;

public class RecordBatchValidatorTests
{
    private static ErrorCode Validate(ReadOnlySpan<byte> batches, RecordValidationOptions? options = null) =>
        RecordBatchValidator.Validate(batches, options ?? new RecordValidationOptions(), null, out _);

    [Fact]
    public void AcceptsAWellFormedBatch()
    {
        Assert.Equal(ErrorCode.None, Validate(RecordTestData.BuildBatch()));
    }

    [Fact]
    public void FlippedPayloadBitIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch();
        batch[^1] ^= 0x01;
        Assert.Equal(ErrorCode.CorruptMessage, RecordBatchValidator.Validate(batch, new RecordValidationOptions(), null, out RecordValidationFailure failure));
        Assert.Equal(0, failure.BatchIndex);
        Assert.Contains("CRC", failure.Message);
    }

    [Fact]
    public void TruncatedBatchIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch();
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch.AsSpan(0, batch.Length - 1)));
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch.AsSpan(0, 11)));
    }

    [Fact]
    public void TrailingBytesAreCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch();
        Assert.Equal(ErrorCode.CorruptMessage, Validate([.. batch, 0, 0, 0]));
    }

    [Fact]
    public void BatchLengthBelowTheHeaderIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch();
        RecordTestData.SetInt32(batch, RecordBatchHeader.BatchLengthOffset, 40, updateCrc: false);
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch.AsSpan(0, 52)));
        RecordTestData.SetInt32(batch, RecordBatchHeader.BatchLengthOffset, 2, updateCrc: false);
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch.AsSpan(0, 14)));
    }

    [Fact]
    public void UnknownMagicIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch();
        batch[RecordBatchHeader.MagicOffset] = 3;
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch));
    }

    [Fact]
    public void LegacyMagicInAProduceV3PlusIsInvalidRecord()
    {
        // Kafka ProduceRequest.validateRecords: v3+ carries only magic v2 batches.
        byte[] message = RecordTestData.LegacyMessage(1, 0, [1], [2], timestamp: 5);
        Assert.Equal(ErrorCode.InvalidRecord, Validate(message));
        Assert.Equal(ErrorCode.None, Validate(message, new RecordValidationOptions { RequireMagicV2 = false, RequireSingleBatch = false }));
    }

    [Fact]
    public void RecordCountDisagreeingWithLastOffsetDeltaIsInvalidRecord()
    {
        byte[] batch = RecordTestData.BuildBatch(recordCount: 3);
        RecordTestData.SetInt32(batch, RecordBatchHeader.LastOffsetDeltaOffset, 5);
        Assert.Equal(ErrorCode.InvalidRecord, Validate(batch));
    }

    [Fact]
    public void RecordCountDisagreeingWithTheRecordsIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch(recordCount: 3);
        RecordTestData.SetInt32(batch, RecordBatchHeader.RecordCountOffset, 4, updateCrc: false);
        RecordTestData.SetInt32(batch, RecordBatchHeader.LastOffsetDeltaOffset, 3);
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch));
    }

    [Fact]
    public void OffsetDeltasWithGapsAreInvalidRecordFromClients()
    {
        using var builder = new RecordBatchBuilder();
        builder.AppendWithOffsetDelta(0, 1, [1], false, [1], false);
        builder.AppendWithOffsetDelta(2, 1, [2], false, [2], false);
        using PooledBufferWriter built = builder.Build();
        byte[] batch = built.WrittenSpan.ToArray();
        // lastOffsetDelta 2 with 2 records: count rule fails first for clients...
        Assert.Equal(ErrorCode.InvalidRecord, Validate(batch));
        // ...and with a consistent header the offset-delta rule catches it.
        RecordTestData.SetInt32(batch, RecordBatchHeader.LastOffsetDeltaOffset, 1);
        Assert.Equal(ErrorCode.InvalidRecord, RecordBatchValidator.Validate(batch, new RecordValidationOptions(), null, out RecordValidationFailure failure));
        Assert.Equal(1, failure.RecordIndex);
        // Compacted (replicated) data may have gaps.
        RecordTestData.SetInt32(batch, RecordBatchHeader.LastOffsetDeltaOffset, 2);
        Assert.Equal(ErrorCode.None, Validate(batch, new RecordValidationOptions { FromClient = false }));
    }

    [Fact]
    public void MalformedRecordIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch(recordCount: 1);
        // The first record's length varint: claim one byte more than the record has.
        batch[RecordBatchHeader.RecordsOffset] += 2; // zig-zag: +2 is +1 in value
        RecordBatchHeader.UpdateCrc(batch);
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch));
    }

    [Fact]
    public void TwoBatchesInAProduceV3PlusAreInvalidRecord()
    {
        byte[] batch = RecordTestData.BuildBatch();
        byte[] two = [.. batch, .. batch];
        Assert.Equal(ErrorCode.InvalidRecord, Validate(two));
        var infos = new List<RecordBatchInfo>();
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(two, new RecordValidationOptions { RequireSingleBatch = false }, infos, out _));
        Assert.Equal(2, infos.Count);
        Assert.Equal(batch.Length, infos[1].Position);
    }

    [Fact]
    public void EmptyRecordsAreInvalidRecordForProduce()
    {
        Assert.Equal(ErrorCode.InvalidRecord, Validate(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void ZstdBeforeProduceV7IsUnsupportedCompressionType()
    {
        byte[] batch = RecordTestData.BuildBatch(CompressionType.Zstd);
        Assert.Equal(ErrorCode.UnsupportedCompressionType, Validate(batch, RecordValidationOptions.ForProduce(6, int.MaxValue, false)));
        ErrorCode v7 = RecordBatchValidator.Validate(batch, RecordValidationOptions.ForProduce(7, int.MaxValue, false), null, out RecordValidationFailure failure);
        Assert.True(failure.BatchIndex < 0, failure.Message);
    }

    [Fact]
    public void UnknownCompressionIdIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch();
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesOffset), 5);
        RecordBatchHeader.UpdateCrc(batch);
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch));
    }

    [Fact]
    public void BatchOverMaxMessageBytesIsMessageTooLarge()
    {
        byte[] batch = RecordTestData.BuildBatch();
        Assert.Equal(ErrorCode.MessageTooLarge, Validate(batch, RecordValidationOptions.ForProduce(9, batch.Length - 1, false)));
        Assert.Equal(ErrorCode.None, Validate(batch, RecordValidationOptions.ForProduce(9, batch.Length, false)));
    }

    [Fact]
    public void NonZeroBaseOffsetFromAClientIsInvalidRecord()
    {
        byte[] batch = RecordTestData.BuildBatch();
        RecordBatchHeader.SetBaseOffset(batch, 10);
        Assert.Equal(ErrorCode.InvalidRecord, Validate(batch));
        Assert.Equal(ErrorCode.None, Validate(batch, new RecordValidationOptions { FromClient = false }));
    }

    [Fact]
    public void IdempotentBatchWithoutSequenceIsInvalidRecord()
    {
        byte[] batch = RecordTestData.BuildBatch(producerId: 5, producerEpoch: 0, baseSequence: -1);
        Assert.Equal(ErrorCode.InvalidRecord, Validate(batch));
        Assert.Equal(ErrorCode.None, Validate(RecordTestData.BuildBatch(producerId: 5, producerEpoch: 0, baseSequence: 0)));
    }

    [Fact]
    public void TransactionalBatchWithoutProducerIdIsInvalidRecord()
    {
        byte[] batch = RecordTestData.BuildBatch(producerId: 5, producerEpoch: 0, baseSequence: 0, isTransactional: true);
        Assert.Equal(ErrorCode.None, Validate(batch));
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.ProducerIdOffset), -1);
        RecordBatchHeader.UpdateCrc(batch);
        Assert.Equal(ErrorCode.InvalidRecord, Validate(batch));
    }

    [Fact]
    public void NullKeyOnACompactedTopicIsCorruptMessage()
    {
        using var builder = new RecordBatchBuilder();
        builder.Append(1, null, [1]);
        using PooledBufferWriter batch = builder.Build();
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch.WrittenSpan, RecordValidationOptions.ForProduce(9, int.MaxValue, compactedTopic: true)));
        Assert.Equal(ErrorCode.None, Validate(batch.WrittenSpan, RecordValidationOptions.ForProduce(9, int.MaxValue, compactedTopic: false)));
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void CorruptCompressedPayloadIsCorruptMessage(CompressionType compression)
    {
        byte[] batch = RecordTestData.BuildBatch(compression, recordCount: 50, valueBytes: 100);
        // Scramble the middle of the compressed payload but keep the CRC right, so only the
        // codec can notice.
        for (int i = RecordBatchHeader.RecordsOffset + 20; i < batch.Length - 4; i += 3)
        {
            batch[i] ^= 0x5A;
        }

        RecordBatchHeader.UpdateCrc(batch);
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch));
    }

    [Fact]
    public void DecompressedSizeOverTheLimitIsCorruptMessage()
    {
        byte[] batch = RecordTestData.BuildBatch(CompressionType.Zstd, recordCount: 100, valueBytes: 1000);
        Assert.Equal(ErrorCode.None, Validate(batch, new RecordValidationOptions { MaxDecompressedBytes = 200_000 }));
        Assert.Equal(ErrorCode.CorruptMessage, Validate(batch, new RecordValidationOptions { MaxDecompressedBytes = 50_000 }));
    }
}

public class RecordBatchValidatorTimestampAndAccessTests
{
    [Fact]
    public void CreateTimeOutsideTheTopicsWindowIsInvalidTimestamp()
    {
        // Records are at BaseTimestamp .. BaseTimestamp + 2.
        byte[] batch = RecordTestData.BuildBatch(recordCount: 3);
        long now = RecordTestData.BaseTimestamp + 1000;
        var tooOld = RecordValidationOptions.ForProduce(9, int.MaxValue, false, now, timestampBeforeMaxMs: 999, timestampAfterMaxMs: 0);
        Assert.Equal(ErrorCode.InvalidTimestamp, RecordBatchValidator.Validate(batch, tooOld, null, out RecordValidationFailure failure));
        Assert.Equal(0, failure.RecordIndex);
        var inWindow = RecordValidationOptions.ForProduce(9, int.MaxValue, false, now, timestampBeforeMaxMs: 1000, timestampAfterMaxMs: 0);
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(batch, inWindow, null, out _));
        var future = RecordValidationOptions.ForProduce(9, int.MaxValue, false, RecordTestData.BaseTimestamp, timestampAfterMaxMs: 1);
        Assert.Equal(ErrorCode.InvalidTimestamp, RecordBatchValidator.Validate(batch, future, null, out failure));
        Assert.Equal(2, failure.RecordIndex);
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Lz4)]
    public void TryGetRecordsGivesTheUncompressedSection(CompressionType compression)
    {
        byte[] batch = RecordTestData.BuildBatch(compression, recordCount: 4);
        using var scratch = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, RecordBatchRecords.TryGetRecords(batch, scratch, 1 << 20, out ReadOnlySpan<byte> records));
        var enumerator = new RecordEnumerator(records);
        while (enumerator.MoveNext())
        {
        }

        Assert.Equal(4, enumerator.Count);
        Assert.False(enumerator.Failed);
        Assert.Equal(ErrorCode.CorruptMessage, RecordBatchRecords.TryGetRecords(batch.AsSpan(0, batch.Length - 1), scratch, 1 << 20, out _));
    }
}
