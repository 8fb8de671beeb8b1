using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>
/// CRC-32C over batch-sized buffers: the check every produced batch pays (target 8 GB/s).
/// Hardware = the public entry point (three interleaved lanes); the others isolate the
/// single-stream instruction loop and the slicing-by-8 fallback.
/// </summary>
[MemoryDiagnoser]
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(1024, 64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public uint Hardware() => Crc32C.Compute(_data);

    [Benchmark]
    public uint HardwareSingleStream() => ~Crc32C.UpdateHardwareSingleStream(0xFFFFFFFFu, _data);

    [Benchmark]
    public uint Portable() => ~Crc32C.UpdatePortable(0xFFFFFFFFu, _data);
}
