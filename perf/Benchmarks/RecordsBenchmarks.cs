using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using Record = Broker.Protocol.Records.Record;

namespace Broker.Benchmarks;

/// <summary>
/// The produce path's per-batch work on a typical batch (100 records of ~100-byte JSON values
/// with a key and one header): iterate records, validate uncompressed and lz4 batches, build a
/// batch. Iteration and uncompressed validation must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class RecordsBenchmarks
{
    private const int RecordCount = 100;
    private byte[] _uncompressed = [];
    private byte[] _lz4 = [];
    private byte[] _zstd = [];
    private byte[][] _values = [];
    private readonly RecordValidationOptions _options = new();

    [GlobalSetup]
    public void Setup()
    {
        _values = new byte[RecordCount][];
        for (int i = 0; i < RecordCount; i++)
        {
            _values[i] = Encoding.UTF8.GetBytes($"{{\"orderId\":{100000 + i},\"customer\":\"c-{i % 17}\",\"amount\":{i * 3.25},\"status\":\"NEW\"}}");
        }

        _uncompressed = Build(CompressionType.None);
        _lz4 = Build(CompressionType.Lz4);
        _zstd = Build(CompressionType.Zstd);
    }

    [Benchmark]
    public long IterateRecords()
    {
        long sum = 0;
        foreach (Record record in RecordEnumerator.ForBatch(_uncompressed))
        {
            sum += record.Value.Length + record.Key.Length + record.TimestampDelta;
            foreach (RecordHeader header in record.Headers)
            {
                sum += header.Value.Length;
            }
        }

        return sum;
    }

    [Benchmark]
    public ErrorCode ValidateUncompressed() => RecordBatchValidator.Validate(_uncompressed, _options, null, out _);

    [Benchmark]
    public ErrorCode ValidateLz4() => RecordBatchValidator.Validate(_lz4, _options, null, out _);

    [Benchmark]
    public ErrorCode ValidateZstd() => RecordBatchValidator.Validate(_zstd, _options, null, out _);

    [Benchmark]
    public int BuildUncompressed()
    {
        using var builder = new RecordBatchBuilder();
        Append(builder);
        using PooledBufferWriter batch = builder.Build();
        return batch.WrittenCount;
    }

    private byte[] Build(CompressionType compression)
    {
        using var builder = new RecordBatchBuilder(compression, producerId: 1, producerEpoch: 0, baseSequence: 0);
        Append(builder);
        using PooledBufferWriter batch = builder.Build();
        return batch.WrittenSpan.ToArray();
    }

    private void Append(RecordBatchBuilder builder)
    {
        ReadOnlySpan<RecordHeaderData> headers = [new RecordHeaderData("source", [1, 2, 3, 4])];
        Span<byte> key = stackalloc byte[8];
        for (int i = 0; i < RecordCount; i++)
        {
            BitConverter.TryWriteBytes(key, (long)i);
            builder.Append(1_700_000_000_000 + i, key, false, _values[i], false, headers);
        }
    }
}
