using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;
using Broker.Storage;
using Broker.Storage.Index;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Benchmarks;

/// <summary>
/// Partition log hot paths: append into the page cache, sparse index lookup, fetch-region reads.
/// Run: dotnet run -c Release --project perf/Benchmarks -- --filter '*StorageAppend*' '*StorageRead*'
/// Results and commands: docs/performance-storage.md.
/// </summary>
[MemoryDiagnoser]
public class StorageAppendBenchmarks
{
    private const int BytesPerInvoke = 8 * 1024 * 1024;
    private const long TruncateAboveBytes = 256L * 1024 * 1024;

    private string _root = string.Empty;
    private PartitionLog _log = null!;
    private byte[] _batch = Array.Empty<byte>();
    private int _batchesPerInvoke;
    private Microsoft.Win32.SafeHandles.SafeFileHandle _raw = null!;
    private long _rawPosition;

    [Params(1024, 16 * 1024, 1024 * 1024)]
    public int BatchBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "storage-bench-" + Guid.NewGuid().ToString("N"));
        var tp = new TopicPartition("bench", 0);
        var config = LogConfig.Default with { FileDeleteDelayMs = 0, MaxMessageBytes = 2 * 1024 * 1024 };
        _log = PartitionLog.Create(Path.Combine(_root, tp.DirectoryName), tp, Guid.NewGuid(), config, TimeProvider.System, NullLogger.Instance);
        _batch = StorageBenchmarkBatches.Create(BatchBytes);
        _batchesPerInvoke = Math.Max(1, BytesPerInvoke / BatchBytes);
        _raw = File.OpenHandle(Path.Combine(_root, "raw.bin"), FileMode.Create, FileAccess.ReadWrite);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _log.Close(clean: false);
        _raw.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>
    /// The floor: the same bytes appended to a file with bare positional writes (no offsets, no
    /// index, no lock), so the ratio shows the log's own overhead over the kernel's page cache.
    /// </summary>
    [Benchmark(Baseline = true)]
    public long RawPositionalWrite()
    {
        for (int i = 0; i < _batchesPerInvoke; i++)
        {
            RandomAccess.Write(_raw, _batch, _rawPosition);
            _rawPosition += _batch.Length;
        }

        if (_rawPosition > TruncateAboveBytes)
        {
            RandomAccess.SetLength(_raw, 0);
            _rawPosition = 0;
        }

        return _rawPosition;
    }

    /// <summary>Appends 8 MiB of batches per invocation (the time reported is per 8 MiB: throughput = 8 MiB / Mean).</summary>
    [Benchmark]
    public long Append()
    {
        long last = 0;
        for (int i = 0; i < _batchesPerInvoke; i++)
        {
            last = _log.Append(_batch, leaderEpoch: 1).LastOffset;
        }

        // Keep the benchmark's disk footprint bounded (amortised over 256 MiB of appends).
        if (_log.SizeInBytes > TruncateAboveBytes)
        {
            _log.TruncateFullyAndStartAt(_log.LogEndOffset);
            _log.DeletePendingSegments(force: true);
        }

        return last;
    }
}

/// <summary>Offset index lookup (binary search, allocation-free) and fetch reads.</summary>
[MemoryDiagnoser]
public class StorageReadBenchmarks
{
    private const int Entries = 262_144; // a full 1 GiB segment at index.interval.bytes=4096
    private string _root = string.Empty;
    private OffsetIndex _index = null!;
    private PartitionLog _log = null!;
    private long[] _targets = Array.Empty<long>();
    private byte[] _copyBuffer = Array.Empty<byte>();
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "storage-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        _index = new OffsetIndex(Path.Combine(_root, "00000000000000000000.index"), 0, 10 * 1024 * 1024);
        _index.OpenForAppend(10 * 1024 * 1024);
        for (int i = 0; i < Entries; i++)
        {
            _index.Append((i * 4L) + 3, i * 4096);
        }

        var random = new Random(42);
        _targets = new long[4096];
        for (int i = 0; i < _targets.Length; i++)
        {
            _targets[i] = random.NextInt64(Entries * 4L);
        }

        var tp = new TopicPartition("bench-read", 0);
        _log = PartitionLog.Create(Path.Combine(_root, tp.DirectoryName), tp, Guid.NewGuid(), LogConfig.Default, TimeProvider.System, NullLogger.Instance);
        byte[] batch = StorageBenchmarkBatches.Create(16 * 1024);
        for (int i = 0; i < 4096; i++)
        {
            _log.Append(batch, 1); // 64 MiB, 4096 batches of 16 KiB
        }

        _log.UpdateHighWatermark(_log.LogEndOffset);
        _copyBuffer = new byte[1024 * 1024 + (64 * 1024)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _index.Dispose();
        _log.Close(clean: false);
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark]
    public int OffsetIndexLookup()
    {
        long target = _targets[_next++ & (_targets.Length - 1)];
        return _index.Lookup(target).Position;
    }

    /// <summary>A 1 MiB fetch at a random offset: index lookup, header scan, the FileRecords region.</summary>
    [Benchmark]
    public int ReadRegion1MiB()
    {
        long offset = _targets[_next++ & (_targets.Length - 1)] % (_log.LogEndOffset - 100);
        return _log.Read(offset, 1024 * 1024, _log.HighWatermark, minOneBatch: true).SizeInBytes;
    }

    /// <summary>The same plus copying the region out (the TLS / non-sendfile path).</summary>
    [Benchmark]
    public int ReadRegion1MiBAndCopy()
    {
        long offset = _targets[_next++ & (_targets.Length - 1)] % (_log.LogEndOffset - 100);
        LogReadResult result = _log.Read(offset, 1024 * 1024, _log.HighWatermark, minOneBatch: true);
        result.Records!.CopyTo(_copyBuffer);
        return result.SizeInBytes;
    }
}

/// <summary>
/// Crash recovery: validate (size, magic, CRC32C) and re-index a 256 MiB segment of 16 KiB batches
/// from the page cache. Scale x4 for a 1 GiB segment (recovery is linear in bytes).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class StorageRecoveryBenchmarks
{
    private string _root = string.Empty;
    private string _directory = string.Empty;
    private readonly TopicPartition _tp = new("bench-recovery", 0);

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "storage-bench-" + Guid.NewGuid().ToString("N"));
        _directory = Path.Combine(_root, _tp.DirectoryName);
        PartitionLog log = PartitionLog.Create(_directory, _tp, Guid.NewGuid(), LogConfig.Default, TimeProvider.System, NullLogger.Instance);
        byte[] batch = StorageBenchmarkBatches.Create(16 * 1024);
        for (int i = 0; i < 16 * 1024; i++)
        {
            log.Append(batch, 1); // 256 MiB
        }

        log.Close(clean: false);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark]
    public long Recover256MiBSegment()
    {
        PartitionLog log = PartitionLog.Load(_directory, _tp, Guid.Empty, LogConfig.Default, TimeProvider.System, NullLogger.Instance,
            new PartitionLog.LoadState(CleanShutdown: false, RecoveryPoint: 0, LogStartOffset: 0, HighWatermark: 0));
        long end = log.LogEndOffset;
        log.Close(clean: false);
        return end;
    }
}

/// <summary>One uncompressed v2 batch of about the requested size with 1 KiB records (or fewer for small batches).</summary>
internal static class StorageBenchmarkBatches
{
    public static byte[] Create(int totalBytes)
    {
        int recordValueBytes = Math.Min(1000, totalBytes / 2);
        byte[] scratch = new byte[totalBytes + recordValueBytes + 64];
        int p = RecordBatchHeader.HeaderSize;
        int count = 0;
        while (true)
        {
            int size = WriteRecord(scratch.AsSpan(p), count, recordValueBytes);
            if (count > 0 && p + size > totalBytes)
            {
                break;
            }

            p += size;
            count++;
        }

        byte[] batch = scratch.AsSpan(0, p).ToArray();
        Span<byte> span = batch;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.BatchLengthOffset), batch.Length - RecordBatchHeader.LogOverhead);
        span[RecordBatchHeader.MagicOffset] = RecordBatchHeader.MagicV2;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.LastOffsetDeltaOffset), count - 1);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(RecordBatchHeader.BaseTimestampOffset), now);
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(RecordBatchHeader.MaxTimestampOffset), now);
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(RecordBatchHeader.ProducerIdOffset), -1);
        BinaryPrimitives.WriteInt16BigEndian(span.Slice(RecordBatchHeader.ProducerEpochOffset), -1);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.BaseSequenceOffset), -1);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(RecordBatchHeader.RecordCountOffset), count);
        RecordBatchHeader.UpdateCrc(span);
        return batch;
    }

    private static int WriteRecord(Span<byte> destination, int offsetDelta, int valueBytes)
    {
        // Body: attributes, timestampDelta 0, offsetDelta, key -1, value length, value, 0 headers.
        Span<byte> body = stackalloc byte[32];
        int b = 0;
        body[b++] = 0;
        b += WriteVarInt(body.Slice(b), 0);
        b += WriteVarInt(body.Slice(b), offsetDelta);
        b += WriteVarInt(body.Slice(b), -1);
        b += WriteVarInt(body.Slice(b), valueBytes);
        int bodyLength = b + valueBytes + 1;
        int p = WriteVarInt(destination, bodyLength);
        body.Slice(0, b).CopyTo(destination.Slice(p));
        p += b;
        destination.Slice(p, valueBytes).Fill((byte)'x');
        p += valueBytes;
        destination[p++] = 0;
        return p;
    }

    private static int WriteVarInt(Span<byte> destination, int value)
    {
        uint zigzag = (uint)((value << 1) ^ (value >> 31));
        int i = 0;
        while ((zigzag & ~0x7Fu) != 0)
        {
            destination[i++] = (byte)((zigzag & 0x7F) | 0x80);
            zigzag >>= 7;
        }

        destination[i++] = (byte)zigzag;
        return i;
    }
}
