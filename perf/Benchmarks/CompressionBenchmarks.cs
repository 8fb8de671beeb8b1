using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>
/// Each codec on the records section of a 1 KiB and a 64 KiB batch of JSON-like records
/// (what recompression and validation of compressed produce requests cost), into a reused
/// pooled buffer.
/// </summary>
[MemoryDiagnoser]
public class CompressionBenchmarks
{
    private byte[] _records = [];
    private byte[] _compressed = [];
    private PooledBufferWriter _output = null!;
    private ICompressionCodec _codec = null!;

    [Params(CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd)]
    public CompressionType Codec { get; set; }

    [Params(1024, 64 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _codec = CompressionCodecs.Get(Codec);
        using var builder = new RecordBatchBuilder();
        int i = 0;
        while (builder.UncompressedRecordsBytes < Size - 100)
        {
            byte[] value = Encoding.UTF8.GetBytes($"{{\"orderId\":{100000 + i},\"customer\":\"c-{i % 17}\",\"amount\":{i * 3.25}}}");
            builder.Append(1_700_000_000_000 + i, null, value);
            i++;
        }

        using PooledBufferWriter batch = builder.Build();
        _records = batch.WrittenSpan.Slice(RecordBatchHeader.RecordsOffset).ToArray();
        _output = new PooledBufferWriter(4 * Size);
        _codec.Compress(_records, _output);
        _compressed = _output.WrittenSpan.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _output.Dispose();

    [Benchmark]
    public int Compress()
    {
        _output.Clear();
        _codec.Compress(_records, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public ErrorCode Decompress()
    {
        _output.Clear();
        return _codec.Decompress(_compressed, _output, 1 << 20);
    }
}
