using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Wire;

public sealed class KafkaWriterTests
{
    /// <summary>Records that only exist "elsewhere" (like Storage's FileRecords).</summary>
    private sealed class ExternalRecords(byte[] data) : BaseRecords
    {
        public override int SizeInBytes => data.Length;
        public override void CopyTo(Span<byte> destination) => data.CopyTo(destination);
    }

    [Fact]
    public void NonMemoryRecordsAreSplicedWhenASpliceListIsGiven()
    {
        var records = new ExternalRecords(new byte[] { 5, 6, 7 });
        var splices = new List<RecordsSplice>();
        var buffer = new byte[4 + 4 + 4]; // int32, length prefix, int32; the records are not in the buffer
        var writer = new KafkaWriter(buffer, splices);
        writer.WriteInt32(1);
        writer.WriteRecords(records, compact: false, nullable: true);
        writer.WriteInt32(2);
        Assert.Equal(12, writer.Position);
        RecordsSplice splice = Assert.Single(splices);
        Assert.Equal(8, splice.Position);
        Assert.Same(records, splice.Records);
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2 }, buffer);
        Assert.Equal(7, KafkaWriter.SizeOfRecords(records, compact: false));
    }

    [Fact]
    public void WithoutASpliceListRecordsAreCopied()
    {
        var records = new ExternalRecords(new byte[] { 5, 6, 7 });
        var buffer = new byte[KafkaWriter.SizeOfRecords(records, compact: true)];
        var writer = new KafkaWriter(buffer);
        writer.WriteRecords(records, compact: true, nullable: true);
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, buffer);
    }

    [Fact]
    public void NullsAreWrittenInBothForms()
    {
        var buffer = new byte[2 + 1 + 4 + 1];
        var writer = new KafkaWriter(buffer);
        writer.WriteString(null, compact: false, nullable: true);
        writer.WriteString(null, compact: true, nullable: true);
        writer.WriteBytes(null, compact: false, nullable: true);
        writer.WriteArrayLength(-1, compact: true);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 }, buffer);
    }

    [Fact]
    public void OverflowIsABugAndThrows()
    {
        var buffer = new byte[3];
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = new KafkaWriter(buffer);
            writer.WriteInt32(1);
        });
    }
}
