using System.Buffers.Binary;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Protocol.Tests.Records;

public class RecordBatchHeaderTests
{
    [Fact]
    public void ReadsEveryFieldAtItsOffset()
    {
        // Hand-written header so that the view is checked against the format, not the builder.
        byte[] batch = new byte[RecordBatchHeader.HeaderSize];
        var s = batch.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(s.Slice(0), 0x0102030405060708);
        BinaryPrimitives.WriteInt32BigEndian(s.Slice(8), RecordBatchHeader.HeaderSize - 12);
        BinaryPrimitives.WriteInt32BigEndian(s.Slice(12), 17);
        s[16] = 2;
        BinaryPrimitives.WriteInt16BigEndian(s.Slice(21), 0x0002 | 0x0008 | 0x0010 | 0x0020 | 0x0040);
        BinaryPrimitives.WriteInt32BigEndian(s.Slice(23), 41);
        BinaryPrimitives.WriteInt64BigEndian(s.Slice(27), 1000);
        BinaryPrimitives.WriteInt64BigEndian(s.Slice(35), 2000);
        BinaryPrimitives.WriteInt64BigEndian(s.Slice(43), 77);
        BinaryPrimitives.WriteInt16BigEndian(s.Slice(51), 3);
        BinaryPrimitives.WriteInt32BigEndian(s.Slice(53), int.MaxValue - 1);
        BinaryPrimitives.WriteInt32BigEndian(s.Slice(57), 42);
        RecordBatchHeader.UpdateCrc(batch);

        var header = new RecordBatchHeader(batch);
        Assert.Equal(0x0102030405060708, header.BaseOffset);
        Assert.Equal(49, header.BatchLength);
        Assert.Equal(61, header.SizeInBytes);
        Assert.Equal(17, header.PartitionLeaderEpoch);
        Assert.Equal(2, header.Magic);
        Assert.Equal(CompressionType.Snappy, header.CompressionType);
        Assert.Equal(TimestampType.LogAppendTime, header.TimestampType);
        Assert.True(header.IsTransactional);
        Assert.True(header.IsControl);
        Assert.True(header.HasDeleteHorizon);
        Assert.Equal(1000, header.DeleteHorizonMs);
        Assert.Equal(41, header.LastOffsetDelta);
        Assert.Equal(0x0102030405060708 + 41, header.LastOffset);
        Assert.Equal(1000, header.BaseTimestamp);
        Assert.Equal(1000, header.FirstTimestamp);
        Assert.Equal(2000, header.MaxTimestamp);
        Assert.Equal(77, header.ProducerId);
        Assert.Equal(3, header.ProducerEpoch);
        Assert.Equal(int.MaxValue - 1, header.BaseSequence);
        // Sequence numbers wrap past int.MaxValue (Kafka DefaultRecordBatch.incrementSequence).
        Assert.Equal(39, header.LastSequence);
        Assert.Equal(42, header.RecordCount);
        Assert.Equal(Crc32C.Compute(s.Slice(21)), header.Crc);
        Assert.True(header.IsCrcValid);
    }

    [Fact]
    public void TryReadRefusesShortInput()
    {
        Assert.False(RecordBatchHeader.TryRead(new byte[60], out _));
        Assert.Throws<ArgumentException>(() => new RecordBatchHeader(new byte[60]));
        Assert.True(RecordBatchHeader.TryRead(new byte[61], out _));
    }

    [Fact]
    public void BaseOffsetAndLeaderEpochAreOutsideTheCrc()
    {
        byte[] batch = RecordTestData.BuildBatch();
        uint crc = new RecordBatchHeader(batch).Crc;
        RecordBatchHeader.SetBaseOffset(batch, 123456);
        RecordBatchHeader.SetPartitionLeaderEpoch(batch, 9);
        var header = new RecordBatchHeader(batch);
        Assert.Equal(123456, header.BaseOffset);
        Assert.Equal(123458, header.LastOffset);
        Assert.Equal(9, header.PartitionLeaderEpoch);
        Assert.Equal(crc, header.Crc);
        Assert.True(header.IsCrcValid);
    }

    [Fact]
    public void LogAppendTimeRewriteNeedsAndGetsANewCrc()
    {
        byte[] batch = RecordTestData.BuildBatch();
        RecordBatchHeader.SetTimestampType(batch, TimestampType.LogAppendTime);
        RecordBatchHeader.SetMaxTimestamp(batch, 1_800_000_000_000);
        Assert.False(new RecordBatchHeader(batch).IsCrcValid);
        RecordBatchHeader.UpdateCrc(batch);
        var header = new RecordBatchHeader(batch);
        Assert.True(header.IsCrcValid);
        Assert.Equal(TimestampType.LogAppendTime, header.TimestampType);
        Assert.Equal(1_800_000_000_000, header.MaxTimestamp);
        Assert.Equal(CompressionType.None, header.CompressionType);
        RecordBatchHeader.SetTimestampType(batch, TimestampType.CreateTime);
        Assert.Equal(TimestampType.CreateTime, new RecordBatchHeader(batch).TimestampType);
    }

    [Fact]
    public void UpdateCrcRefusesALengthBeyondTheBuffer()
    {
        byte[] batch = RecordTestData.BuildBatch();
        Assert.Throws<ArgumentException>(() => RecordBatchHeader.UpdateCrc(batch.AsSpan(0, batch.Length - 1)));
    }
}
