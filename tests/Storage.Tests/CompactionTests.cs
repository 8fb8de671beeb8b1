using System.Text;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Storage.Tests;

/// <summary>
/// Log compaction: the last record of each key survives with its offset, tombstones go after
/// delete.retention.ms, the dirty ratio drives the cleaner, and a crash between writing the
/// cleaned copy and swapping it in loses nothing.
/// </summary>
public class CompactionTests
{
    private static readonly LogConfig Compacted = LogConfig.Default with
    {
        CleanupPolicy = "compact",
        SegmentBytes = 1024,
        IndexIntervalBytes = 1,
        DeleteRetentionMs = 60_000,
        FileDeleteDelayMs = 60_000,
    };

    [Theory(Timeout = 30_000)]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Zstd)]
    [InlineData(CompressionType.Lz4)]
    public async Task Clean_KeepsTheLastRecordOfEachKey_WithItsOffset(CompressionType codec)
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted with { SegmentBytes = 400 });
        using PartitionLog log = fx.Create();
        var expected = new Dictionary<string, (long Offset, string? Value)>();
        long offset = 0;
        for (int round = 0; round < 6; round++)
        {
            // Batches of 4 records over 5 keys: every round rewrites each key at least once.
            for (int b = 0; b < 3; b++)
            {
                var records = new List<(string Key, string? Value)>();
                for (int r = 0; r < 4; r++)
                {
                    string key = "k" + (((b * 4) + r) % 5);
                    string value = $"v{offset}";
                    records.Add((key, value));
                    expected[key] = (offset, value);
                    offset++;
                }

                Append(log, codec, records);
            }
        }

        log.Roll(); // everything sealed
        log.UpdateHighWatermark(log.LogEndOffset);
        long logEndOffset = log.LogEndOffset;
        int segmentsBefore = log.SegmentCount;
        Assert.True(segmentsBefore > 3, $"{segmentsBefore} segments");
        Assert.True(log.DirtyRatio > 0.99);

        int removed = log.Clean();
        Assert.Equal(offset - expected.Count, removed);
        Assert.Equal(logEndOffset, log.LogEndOffset);
        Assert.Equal(0, log.DirtyRatio);
        Assert.Equal(log.ActiveSegment.BaseOffset, log.CleanerCheckpoint);

        List<(long Offset, string Key, string? Value)> after = ReadAll(log);
        Assert.Equal(expected.Count, after.Count);
        foreach ((long o, string key, string? value) in after)
        {
            Assert.Equal(expected[key], (o, value));
        }

        // The next pass merges the shrunk segments (Kafka's groupSegmentsBySize): fewer, fuller segments.
        Append(log, codec, [("k0", "last")]);
        log.Roll();
        log.UpdateHighWatermark(log.LogEndOffset);
        Assert.Equal(1, log.Clean());
        expected["k0"] = (logEndOffset, "last");
        logEndOffset++;
        Assert.True(log.SegmentCount < segmentsBefore / 2, $"{log.SegmentCount} segments after merging, {segmentsBefore} before");
        after = ReadAll(log);
        Assert.Equal(expected.Count, after.Count);
        foreach ((long o, string key, string? value) in after)
        {
            Assert.Equal(expected[key], (o, value));
        }

        // Reads, timestamp lookups and a restart work on the swapped segments (indexes rebuilt).
        Assert.InRange(log.Read(0, 1 << 20, log.HighWatermark, true).FirstBatchOffset, 0, after[0].Offset);
        log.Close();
        using PartitionLog reopened = fx.Open(clean: true, highWatermark: logEndOffset);
        Assert.Equal(after, ReadAll(reopened));
        Assert.Empty(Directory.GetFiles(fx.Directory, "*.swap"));
        Assert.Empty(Directory.GetFiles(fx.Directory, "*.cleaned"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Tombstones_StayUntilDeleteRetentionMs_ThenGo()
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted);
        fx.Time.SetUtcNow(DateTimeOffset.UtcNow); // segment ages come from file times
        using PartitionLog log = fx.Create();
        Append(log, CompressionType.Gzip, [("a", "1"), ("b", "2"), ("c", "3")]);
        Append(log, CompressionType.Gzip, [("a", null), ("b", "4")]); // tombstone for a at offset 3
        log.Roll();
        log.UpdateHighWatermark(log.LogEndOffset);

        Assert.Equal(2, log.Clean()); // a=1 and b=2 superseded; the tombstone is young and stays
        Assert.Equal([(2L, "c", "3"), (3L, "a", null), (4L, "b", "4")], ReadAll(log));

        // A later pass, once the segment is older than delete.retention.ms: the tombstone goes.
        Append(log, CompressionType.None, [("d", "5")]);
        log.Roll();
        log.UpdateHighWatermark(log.LogEndOffset);
        fx.Time.Advance(TimeSpan.FromMilliseconds(Compacted.DeleteRetentionMs + 20_000));
        Assert.Equal(1, log.Clean());
        Assert.Equal([(2L, "c", "3"), (4L, "b", "4"), (5L, "d", "5")], ReadAll(log));
    }

    [Fact(Timeout = 30_000)]
    public async Task Clean_NeverTouchesTheActiveSegmentOrRecordsAboveTheHighWatermark()
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted);
        using PartitionLog log = fx.Create();
        Append(log, CompressionType.None, [("a", "1"), ("a", "2")]);
        log.Roll();
        Append(log, CompressionType.None, [("a", "3")]);
        log.Roll();
        Append(log, CompressionType.None, [("a", "4")]); // active segment
        log.UpdateHighWatermark(2); // the second segment is not committed yet

        Assert.Equal(1, log.Clean()); // only a=1 (superseded by a=2 inside the committed part)
        log.UpdateHighWatermark(log.LogEndOffset);
        Assert.Equal([(1L, "a", "2"), (2L, "a", "3"), (3L, "a", "4")], ReadAll(log));
    }

    [Fact(Timeout = 30_000)]
    public async Task CrashAfterWritingTheCleanedCopy_BeforeTheSwap_KeepsTheOriginal()
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted);
        List<(long, string, string?)> original;
        using (PartitionLog log = fx.Create())
        {
            FillWithDuplicates(log);
            original = ReadAll(log);
            string cleaned = log.WriteCleanedForTest(0, 1, renameToSwap: false);
            Assert.True(File.Exists(cleaned));
            log.CloseWithoutFlush();
        }

        using PartitionLog reopened = fx.Open(clean: false, highWatermark: original.Count);
        Assert.Empty(Directory.GetFiles(fx.Directory, "*.cleaned"));
        Assert.Equal(original, ReadAll(reopened));
    }

    [Fact(Timeout = 30_000)]
    public async Task CrashAfterRenamingToSwap_CompletesTheSwapAtLoad()
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted);
        List<(long, string, string?)> original;
        long firstSegmentEnd;
        using (PartitionLog log = fx.Create())
        {
            FillWithDuplicates(log);
            original = ReadAll(log);
            firstSegmentEnd = log.Segments[1].BaseOffset;
            string swap = log.WriteCleanedForTest(0, 1, renameToSwap: true);
            Assert.EndsWith(".log.swap", swap);
            log.CloseWithoutFlush();
        }

        using PartitionLog reopened = fx.Open(clean: false, highWatermark: original.Count);
        Assert.Empty(Directory.GetFiles(fx.Directory, "*.swap"));
        List<(long Offset, string Key, string? Value)> after = ReadAll(reopened);

        // The first segment lost the records superseded anywhere in the log; the rest is untouched.
        var latest = new Dictionary<string, long>();
        foreach ((long o, string k, _) in original)
        {
            latest[k] = o;
        }

        var expected = original.FindAll(r => r.Item1 >= firstSegmentEnd || latest[r.Item2] == r.Item1);
        Assert.True(expected.Count < original.Count);
        Assert.Equal(expected, after);
        Assert.Equal(original[^1].Item1 + 1, reopened.LogEndOffset);
    }

    [Theory(Timeout = 30_000)]
    [InlineData(0)]
    [InlineData(2)]
    public async Task CrashInTheMiddleOfAGroupSwap_CompletesItAtLoad_WithoutDuplicateOffsets(int oldFilesRenamed)
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted);
        List<(long Offset, string Key, string? Value)> original;
        long groupEnd;
        int segmentsBefore;
        using (PartitionLog log = fx.Create())
        {
            for (int i = 0; i < 40; i++)
            {
                // k* keys are rewritten all the time; each u{i} is written once and always kept.
                Append(log, CompressionType.None, [("k" + (i % 4), $"v{i}"), ("u" + i, $"u{i}")]);
            }

            log.Roll();
            log.UpdateHighWatermark(log.LogEndOffset);
            Assert.True(log.SegmentCount > 4);
            original = ReadAll(log);
            groupEnd = log.Segments[3].BaseOffset;
            segmentsBefore = log.SegmentCount;
            string swap = log.WriteCleanedForTest(0, 3, renameToSwap: true);
            for (int i = 0; i < oldFilesRenamed; i++)
            {
                // As the swap does before the swap file takes the first segment's name.
                string path = fx.SegmentPath(log.Segments[i].BaseOffset, LogSegment.LogSuffix);
                File.Move(path, path + LogSegment.DeletedSuffix);
            }

            log.CloseWithoutFlush();
        }

        using PartitionLog reopened = fx.Open(clean: false, highWatermark: original.Count);
        Assert.Empty(Directory.GetFiles(fx.Directory, "*.swap"));
        var latest = new Dictionary<string, long>();
        foreach ((long o, string k, _) in original)
        {
            latest[k] = o;
        }

        var expected = original.FindAll(r => r.Offset >= groupEnd || latest[r.Key] == r.Offset);
        Assert.True(expected.Count < original.Count);
        Assert.Equal(expected, ReadAll(reopened));
        Assert.Equal(segmentsBefore - 2, reopened.SegmentCount); // three segments became one
    }

    [Fact(Timeout = 30_000)]
    public async Task ARegionReadBeforeTheSwap_StaysReadable()
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted);
        using PartitionLog log = fx.Create();
        FillWithDuplicates(log);
        LogReadResult before = log.Read(0, 1 << 20, log.HighWatermark, true);
        Assert.True(log.Clean() > 0);

        byte[] bytes = new byte[before.SizeInBytes];
        before.Records!.CopyTo(bytes); // the old file: renamed .deleted, still open under the lease
        before.Records.Dispose();
        Assert.Equal(0, TestBatches.Parse(bytes)[0].BaseOffset);
    }

    [Fact(Timeout = 60_000)]
    public async Task LogManager_CleansByDirtyRatio_AndKeepsTheCheckpointAcrossRestarts()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var config = new LogManagerConfig { LogDirs = new[] { dir.Path }, DefaultLogConfig = Compacted with { MinCleanableDirtyRatio = 0.5 } };
        var tp = new TopicPartition("compacted-" + Guid.NewGuid().ToString("N").Substring(0, 8), 0);
        long checkpoint;
        using (var manager = new LogManager(config))
        {
            manager.Startup();
            PartitionLog log = manager.GetOrCreateLog(tp, Guid.NewGuid());
            FillWithDuplicates(log);
            Assert.True(manager.RunCleaner() > 0);
            checkpoint = log.CleanerCheckpoint;
            Assert.True(checkpoint > 0);

            // A little new dirt (one small segment against a larger clean section): below the ratio.
            Append(log, CompressionType.None, [("k0", "x")]);
            log.Roll();
            log.UpdateHighWatermark(log.LogEndOffset);
            Assert.InRange(log.DirtyRatio, 0.01, 0.5);
            Assert.Equal(0, manager.RunCleaner());
        }

        using (var manager = new LogManager(config))
        {
            manager.Startup();
            PartitionLog log = manager.GetLog(tp)!;
            Assert.Equal(checkpoint, log.CleanerCheckpoint);
            for (int i = 0; i < 20; i++)
            {
                Append(log, CompressionType.None, [("k0", $"y{i}"), ("k1", $"y{i}")]);
            }

            log.Roll();
            log.UpdateHighWatermark(log.LogEndOffset);
            Assert.True(log.DirtyRatio > 0.5);
            Assert.True(manager.RunCleaner() > 0);
            List<(long Offset, string Key, string? Value)> after = ReadAll(log);
            Assert.Equal("y19", after.FindLast(r => r.Key == "k0").Value);
            Assert.Single(after, r => r.Key == "k0");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task CleaningWhileAppendingAndReading_NeverShowsTornOrReorderedData()
    {
        await Task.Yield();
        using var fx = new LogFixture(Compacted with { SegmentBytes = 600 });
        using PartitionLog log = fx.Create();
        var latest = new Dictionary<string, string>();
        using var done = new CancellationTokenSource();
        Task writer = Task.Run(() =>
        {
            try
            {
                for (int i = 0; i < 600; i++)
                {
                    string key = "k" + (i % 7);
                    string value = "v" + i;
                    lock (latest)
                    {
                        latest[key] = value;
                    }

                    Append(log, i % 3 == 0 ? CompressionType.Lz4 : CompressionType.None, [(key, value)]);
                    log.UpdateHighWatermark(log.LogEndOffset);
                }
            }
            finally
            {
                done.Cancel();
            }
        });
        int removedWhileAppending = 0;
        Task cleaner = Task.Run(() =>
        {
            int passes = 0;
            while (!done.IsCancellationRequested || passes == 0)
            {
                removedWhileAppending += log.Clean();
                passes++;
            }
        });
        Task reader = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                List<(long Offset, string Key, string? Value)> snapshot = ReadAll(log);
                for (int i = 1; i < snapshot.Count; i++)
                {
                    Assert.True(snapshot[i].Offset > snapshot[i - 1].Offset, "offsets strictly increase");
                    Assert.Equal("v" + snapshot[i].Offset, snapshot[i].Value); // a value is the offset it was written at
                }
            }
        });

        await Task.WhenAll(writer, cleaner, reader);
        Assert.True(removedWhileAppending > 100, $"{removedWhileAppending} records removed while appending");
        log.Roll();
        log.UpdateHighWatermark(log.LogEndOffset);
        log.Clean();
        List<(long Offset, string Key, string? Value)> after = ReadAll(log);
        var lastSeen = new Dictionary<string, string>();
        foreach ((_, string key, string? value) in after)
        {
            lastSeen[key] = value!;
        }

        Assert.Equal(latest, lastSeen);
        Assert.Equal(7, after.Count); // everything sealed and cleaned: one record per key
        Assert.Equal(600, log.LogEndOffset);
    }

    /// <summary>Several sealed segments where keys k0..k3 are rewritten again and again.</summary>
    private static void FillWithDuplicates(PartitionLog log)
    {
        for (int i = 0; i < 40; i++)
        {
            Append(log, i % 2 == 0 ? CompressionType.Snappy : CompressionType.None, [("k" + (i % 4), $"v{i}a"), ("k" + ((i + 1) % 4), $"v{i}b")]);
        }

        log.Roll();
        log.UpdateHighWatermark(log.LogEndOffset);
        Assert.True(log.SegmentCount > 3);
    }

    private static void Append(PartitionLog log, CompressionType codec, List<(string Key, string? Value)> records)
    {
        using var builder = new RecordBatchBuilder(codec);
        foreach ((string key, string? value) in records)
        {
            builder.Append(1_700_000_000_000, Encoding.UTF8.GetBytes(key), value is null ? null : Encoding.UTF8.GetBytes(value));
        }

        using PooledBufferWriter built = builder.Build();
        Assert.Equal(ErrorCode.None, log.Append(built.WrittenSpan.ToArray(), 0).Error);
    }

    /// <summary>Every record from the log start to the high watermark, checking each batch's CRC.</summary>
    private static List<(long Offset, string Key, string? Value)> ReadAll(PartitionLog log)
    {
        var result = new List<(long, string, string?)>();
        long next = log.LogStartOffset;
        using var scratch = new PooledBufferWriter();
        while (next < log.HighWatermark)
        {
            LogReadResult read = log.Read(next, 1 << 20, log.HighWatermark, minOneBatch: true);
            Assert.Equal(ErrorCode.None, read.Error);
            Assert.NotNull(read.Records);
            byte[] bytes = new byte[read.SizeInBytes];
            read.Records.CopyTo(bytes);
            read.Records.Dispose();
            int p = 0;
            while (p < bytes.Length)
            {
                var header = new RecordBatchHeader(bytes.AsSpan(p));
                ReadOnlySpan<byte> batch = bytes.AsSpan(p, header.SizeInBytes);
                Assert.True(new RecordBatchHeader(batch).IsCrcValid);
                Assert.Equal(ErrorCode.None, RecordBatchRecords.TryGetRecords(batch, scratch, 1 << 24, out ReadOnlySpan<byte> records));
                int count = 0;
                foreach (Broker.Protocol.Records.Record record in new RecordEnumerator(records))
                {
                    result.Add((record.Offset(header.BaseOffset), Encoding.UTF8.GetString(record.Key), record.IsValueNull ? null : Encoding.UTF8.GetString(record.Value)));
                    count++;
                }

                Assert.Equal(header.RecordCount, count);
                next = header.LastOffset + 1;
                p += header.SizeInBytes;
            }
        }

        return result;
    }
}
