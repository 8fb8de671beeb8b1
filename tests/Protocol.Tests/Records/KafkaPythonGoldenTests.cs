using System.Text;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using Record = Broker.Protocol.Records.Record;

namespace Broker.Protocol.Tests.Records;

/// <summary>
/// Batches and legacy message sets written by another client implementation: kafka-python
/// 2.0.2's DefaultRecordBatchBuilder / LegacyRecordBatchBuilder (Debian python3-kafka, with
/// python-snappy, lz4 and zstandard), generated once by /usr/bin/python3 and pasted here:
/// three records (key-0 / "value-0 " x 20 / headers h1=v1, h2=null; null key / "value-1 " x 20;
/// key-2 / null value), producer id 4242, epoch 3, base sequence 17. Its snappy is xerial-framed
/// and its LZ4 frames carry the content size.
/// </summary>
public class KafkaPythonGoldenTests
{
    public static TheoryData<CompressionType, string> V2Batches => new()
    {
        { CompressionType.None, "00000000000000000000019e00000000023720366d0000000000020000018bcfe568000000018bcfe56805000000000000109200030000001100000003ec020000000a6b65792d30c00276616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d30200404683104763104683201ce02000a0201c00276616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312076616c75652d312000160004040a6b65792d320100" },
        { CompressionType.Gzip, "00000000000000000000007e00000000020f6a2b210001000000020000018bcfe568000000018bcfe568050000000000001092000300000011000000031f8b0800a8c0056b02ff7bc3c4c0c0c0959d5aa96b7080a92c31a73455d74061b0d22c2c19862c65862c19468ce79818b89818614e365418ac348318030b0b387c8d181900255d3bc16d010000" },
        { CompressionType.Snappy, "0000000000000000000000950000000002e76a6cab0002000000020000018bcfe568000000018bcfe5680500000000000010920003000000110000000382534e4150505900000000010000000100000050ed0250ec020000000a6b65792d30c00276616c75652d3020fe0800fe08005e0800400404683104763104683201ce02000a020111b300310db3fe0800fe08004608003000160004040a6b65792d320100" },
        { CompressionType.Lz4, "00000000000000000000008d0000000002569ca4180003000000020000018bcfe568000000018bcfe5680500000000000010920003000000110000000304224d1868406d010000000000004845000000ff06ec020000000a6b65792d30c00276616c75652d3020080085f4020404683104763104683201ce02000a0201b3001331b3000f08007fd000160004040a6b65792d32010000000000" },
        { CompressionType.Zstd, "00000000000000000000007e0000000002a79ed8250004000000020000018bcfe568000000018bcfe5680500000000000010920003000000110000000328b52ffd606d001d02004403ec020000000a6b65792d30c00276616c75652d30200404683104763104683201ce02000a02013100160004040a6b65792d32010004000f4001f26d33c45a195598" },
    };

    public static TheoryData<int, CompressionType, string> LegacyMessageSets => new()
    {
        { 0, CompressionType.None, "00000000000000000000003b59c9870c0000000000056b65792d300000002876616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302000000000000000010000001598dda4ae0000ffffffff0000000776616c75652d31" },
        { 0, CompressionType.Gzip, "00000000000000000000005348239e1e0001ffffffff000000451f8b0800a8c0056b02ff63608003ebc893ed3c60166b766aa5ae0190a1519698539aaa6ba04088861ac108c4a233ee2e59c7c0f01f08803c76880a4300bbde70ca68000000" },
        { 0, CompressionType.Snappy, "0000000000000000000000642caf42aa0002ffffffff0000005682534e41505059000000000100000001000000426800001901103b59c9870c050f44056b65792d300000002876616c75652d30207e08000000090164010000001598dda4ae0000ffffffff0000000776616c75652d31" },
        { 1, CompressionType.None, "0000000000000000000000434b8cc06501000000018bcfe56800000000056b65792d300000002876616c75652d302076616c75652d302076616c75652d302076616c75652d302076616c75652d302000000000000000010000001d8aff9e3d01000000018bcfe56807ffffffff0000000776616c75652d31" },
        { 1, CompressionType.Gzip, "000000000000000000000064c384dc5f01010000000000000000ffffffff0000004e1f8b0800a8c0056b02ff6360800367ef9e03a98c400663f7f9a7192011d6ecd44a5d032043a32c31a73455d74081100d350a648a6cd7ff79b670e3d8ff030190c30e5169080050fb388878000000" },
        { 1, CompressionType.Snappy, "0000000000000000000000771376610101020000000000000000ffffffff0000006182534e415050590000000001000000010000004d780000190134434b8cc06501000000018bcfe568011844056b65792d300000002876616c75652d30207e0800000009010146101d8aff9e3d0109054f3c07ffffffff0000000776616c75652d31" },
        { 1, CompressionType.Lz4, "00000000000000000000007c1195111501030000000000000000ffffffff0000006604224d1868407800000000000000814f00000016000100e0434b8cc06501000000018bcfe5681800ff03056b65792d300000002876616c75652d302008000d003600004200850000001d8aff9e3d4f00f00107ffffffff0000000776616c75652d3100000000" },
    };

    [Theory]
    [MemberData(nameof(V2Batches))]
    public void ValidatesAndReadsKafkaPythonV2Batches(CompressionType compression, string hex)
    {
        byte[] batch = Convert.FromHexString(hex);
        var infos = new List<RecordBatchInfo>();
        ErrorCode error = RecordBatchValidator.Validate(batch, new RecordValidationOptions(), infos, out RecordValidationFailure failure);
        Assert.True(error == ErrorCode.None, failure.Message);
        RecordBatchInfo info = Assert.Single(infos);
        Assert.Equal(compression, info.CompressionType);
        Assert.Equal(3, info.RecordCount);
        Assert.Equal(2, info.LastOffsetDelta);
        Assert.Equal(4242, info.ProducerId);
        Assert.Equal((short)3, info.ProducerEpoch);
        Assert.Equal(17, info.BaseSequence);
        Assert.Equal(1_700_000_000_005, info.MaxTimestamp);

        using var records = new PooledBufferWriter();
        Assert.Equal(ErrorCode.None, CompressionCodecs.Get(compression).Decompress(batch.AsSpan(RecordBatchHeader.RecordsOffset), records, 1 << 20));
        int index = 0;
        foreach (Record record in new RecordEnumerator(records.WrittenSpan))
        {
            switch (index)
            {
                case 0:
                    Assert.Equal("key-0", Encoding.ASCII.GetString(record.Key));
                    Assert.Equal(string.Concat(Enumerable.Repeat("value-0 ", 20)), Encoding.ASCII.GetString(record.Value));
                    Assert.Equal(2, record.HeaderCount);
                    var headers = record.Headers;
                    Assert.True(headers.MoveNext());
                    Assert.Equal("h1", Encoding.ASCII.GetString(headers.Current.Key));
                    Assert.Equal("v1", Encoding.ASCII.GetString(headers.Current.Value));
                    Assert.True(headers.MoveNext());
                    Assert.Equal("h2", Encoding.ASCII.GetString(headers.Current.Key));
                    Assert.True(headers.Current.IsValueNull);
                    Assert.False(headers.MoveNext());
                    break;
                case 1:
                    Assert.True(record.IsKeyNull);
                    Assert.Equal(5, record.TimestampDelta);
                    break;
                case 2:
                    Assert.Equal("key-2", Encoding.ASCII.GetString(record.Key));
                    Assert.True(record.IsValueNull);
                    break;
            }

            index++;
        }

        Assert.Equal(3, index);
    }

    [Theory]
    [MemberData(nameof(LegacyMessageSets))]
    public void ValidatesAndConvertsKafkaPythonLegacyMessageSets(int magic, CompressionType compression, string hex)
    {
        byte[] set = Convert.FromHexString(hex);
        var infos = new List<RecordBatchInfo>();
        var options = new RecordValidationOptions { RequireMagicV2 = false, RequireSingleBatch = false, FromClient = false };
        ErrorCode error = RecordBatchValidator.Validate(set, options, infos, out RecordValidationFailure failure);
        Assert.True(error == ErrorCode.None, failure.Message);
        Assert.All(infos, i => Assert.Equal(magic, i.Magic));
        Assert.Equal(compression, infos[0].CompressionType);
        int total = 0;
        foreach (RecordBatchInfo i in infos)
        {
            total += i.RecordCount;
        }

        Assert.Equal(2, total);

        Assert.Equal(ErrorCode.None, LegacyMessageSet.ConvertToV2(set, CompressionType.None, 1 << 20, out PooledBufferWriter? converted));
        using PooledBufferWriter batch = converted!;
        var values = new List<string?>();
        var keys = new List<string?>();
        foreach (Record record in RecordEnumerator.ForBatch(batch.WrittenSpan))
        {
            keys.Add(record.IsKeyNull ? null : Encoding.ASCII.GetString(record.Key));
            values.Add(record.IsValueNull ? null : Encoding.ASCII.GetString(record.Value));
        }

        Assert.Equal(new string?[] { "key-0", null }, keys);
        Assert.Equal(new string?[] { string.Concat(Enumerable.Repeat("value-0 ", 5)), "value-1" }, values);
        if (magic == 1 && compression == CompressionType.None)
        {
            Assert.Equal(1_700_000_000_007, new RecordBatchHeader(batch.WrittenSpan).MaxTimestamp);
        }
    }
}
