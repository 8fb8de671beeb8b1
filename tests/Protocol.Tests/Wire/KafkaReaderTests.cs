using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Wire;

public sealed class KafkaReaderTests
{
    [Theory]
    [InlineData(0u, new byte[] { 0x00 })]
    [InlineData(1u, new byte[] { 0x01 })]
    [InlineData(127u, new byte[] { 0x7F })]
    [InlineData(128u, new byte[] { 0x80, 0x01 })]
    [InlineData(300u, new byte[] { 0xAC, 0x02 })]
    [InlineData(uint.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void UnsignedVarIntMatchesKafkaEncoding(uint value, byte[] encoded)
    {
        var reader = new KafkaReader(encoded);
        Assert.Equal(value, reader.ReadUnsignedVarInt());
        Assert.False(reader.Failed);
        Assert.Equal(0, reader.Remaining);

        var buffer = new byte[encoded.Length];
        var writer = new KafkaWriter(buffer);
        writer.WriteUnsignedVarInt(value);
        Assert.Equal(encoded, buffer);
        Assert.Equal(encoded.Length, KafkaWriter.SizeOfUnsignedVarInt(value));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // six bytes
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F })]       // fifth byte overflows 32 bits
    [InlineData(new byte[] { 0x80 })]                               // truncated
    public void UnsignedVarIntRejectsOverlongOrTruncated(byte[] encoded)
    {
        var reader = new KafkaReader(encoded);
        reader.ReadUnsignedVarInt();
        Assert.True(reader.Failed);
    }

    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(-1, new byte[] { 0x01 })]
    [InlineData(1, new byte[] { 0x02 })]
    [InlineData(-64, new byte[] { 0x7F })]
    [InlineData(64, new byte[] { 0x80, 0x01 })]
    [InlineData(int.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(int.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void VarIntIsZigZag(int value, byte[] encoded)
    {
        var reader = new KafkaReader(encoded);
        Assert.Equal(value, reader.ReadVarInt());
        Assert.False(reader.Failed);
        var buffer = new byte[encoded.Length];
        var writer = new KafkaWriter(buffer);
        writer.WriteVarInt(value);
        Assert.Equal(encoded, buffer);
        Assert.Equal(encoded.Length, KafkaWriter.SizeOfVarInt(value));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(1234567890123L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void VarLongRoundTrips(long value)
    {
        var buffer = new byte[KafkaWriter.SizeOfVarLong(value)];
        var writer = new KafkaWriter(buffer);
        writer.WriteVarLong(value);
        Assert.Equal(buffer.Length, writer.Position);
        var reader = new KafkaReader(buffer);
        Assert.Equal(value, reader.ReadVarLong());
        Assert.False(reader.Failed);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void FailureIsStickyAndLaterReadsReturnDefaults()
    {
        var reader = new KafkaReader(new byte[] { 0, 0, 0, 7, 1, 2 });
        Assert.Equal(7, reader.ReadInt32());
        Assert.Equal(0L, reader.ReadInt64()); // only 2 bytes left
        Assert.True(reader.Failed);
        Assert.Equal(0, reader.ReadInt8()); // would have succeeded without the sticky flag
        Assert.Equal(string.Empty, reader.ReadString(false, false));
        Assert.True(reader.Failed);
    }

    [Fact]
    public void LengthsBeyondTheInputFailBeforeAllocating()
    {
        // An int32 byte length of 2^31-1 with 1 byte behind it.
        var reader = new KafkaReader(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF, 0x01 });
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Null(reader.ReadBytes(false, true));
        Assert.True(reader.Failed);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024);

        // An array count of 10 needs at least 10 * 4 bytes for int32 elements.
        var array = new KafkaReader(new byte[] { 0, 0, 0, 10, 0, 0, 0, 1 });
        Assert.Equal(0, array.ReadArrayLength(false, false, 4));
        Assert.True(array.Failed);
    }

    [Fact]
    public void NullIsOnlyAcceptedWhereNullable()
    {
        var nullable = new KafkaReader(new byte[] { 0xFF, 0xFF });
        Assert.Null(nullable.ReadString(false, true));
        Assert.False(nullable.Failed);

        var strict = new KafkaReader(new byte[] { 0xFF, 0xFF });
        strict.ReadString(false, false);
        Assert.True(strict.Failed);

        var compactNull = new KafkaReader(new byte[] { 0x00 });
        Assert.Equal(-1, compactNull.ReadArrayLength(true, true));
        Assert.False(compactNull.Failed);

        var otherNegative = new KafkaReader(new byte[] { 0xFF, 0xFE });
        otherNegative.ReadString(false, true);
        Assert.True(otherNegative.Failed);
    }

    [Fact]
    public void RecordsAreSlicesOfTheInput()
    {
        byte[] input = { 0, 0, 0, 3, 9, 8, 7 };
        var reader = new KafkaReader(input);
        MemoryRecords? records = reader.ReadRecords(false, true);
        Assert.NotNull(records);
        Assert.Equal(3, records.SizeInBytes);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(records.Buffer, out ArraySegment<byte> segment));
        Assert.Same(input, segment.Array);
        Assert.Equal(4, segment.Offset);
    }

    [Fact]
    public void UuidIsBigEndian()
    {
        byte[] bytes = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF };
        var reader = new KafkaReader(bytes);
        Assert.Equal(Guid.Parse("01234567-89ab-cdef-0123-456789abcdef"), reader.ReadUuid());
        var buffer = new byte[16];
        var writer = new KafkaWriter(buffer);
        writer.WriteUuid(Guid.Parse("01234567-89ab-cdef-0123-456789abcdef"));
        Assert.Equal(bytes, buffer);
    }
}
