using Broker.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Storage.Tests;

/// <summary>
/// The bound on open sealed segments (log.segment.open.handles.max): reads across many segments
/// succeed with few files open, a region held by a reader is never closed under it, and deleted
/// segments give their files back. Open files are counted from /proc/self/fd, not from our own
/// bookkeeping.
/// </summary>
public class HandleCacheTests
{
    // Two 2-record batches of 16-byte values (~110 bytes each) per 300-byte segment.
    private static readonly LogConfig SmallSegments = LogConfig.Default with { SegmentBytes = 300, IndexIntervalBytes = 1, FileDeleteDelayMs = 60_000 };

    [Fact(Timeout = 30_000)]
    public async Task ReadsAcrossManySegments_KeepOpenLogFilesWithinTheBound()
    {
        await Task.Yield();
        const int bound = 3;
        using var fx = new LogFixture(SmallSegments);
        int batches = FillAndReopen(fx, 60, out PartitionLog log, new SegmentHandleCache(bound));
        using (log)
        {
            Assert.True(log.SegmentCount >= 25, $"{log.SegmentCount} segments");
            Assert.Equal(1, OpenLogFiles(fx.Directory)); // a clean restart opens only the active segment

            // Every batch, in order and then backwards, with copies of the regions checked.
            for (int pass = 0; pass < 2; pass++)
            {
                for (int n = 0; n < batches; n++)
                {
                    int i = pass == 0 ? n : batches - 1 - n;
                    AssertReadsBatch(log, i);
                    Assert.True(OpenLogFiles(fx.Directory) <= bound + 1, $"{OpenLogFiles(fx.Directory)} open .log files after reading batch {i}");
                }
            }

            // Sealed segments closed by the cache dropped their indexes too, and reload them on use.
            LogSegment middle = log.Segments[log.SegmentCount / 2];
            int batchInMiddle = (int)(middle.BaseOffset / 2);
            Assert.False(middle.IsFileOpen);
            Assert.Equal(0, middle.OffsetIndex.Entries);
            AssertReadsBatch(log, batchInMiddle);
            Assert.True(middle.IsFileOpen);
            Assert.True(middle.OffsetIndex.Entries > 0);
        }

        Assert.Equal(0, OpenLogFiles(fx.Directory));
    }

    [Fact(Timeout = 30_000)]
    public async Task ARegionHeldByAReader_SurvivesEviction_AndIsClosedAfterItIsDisposed()
    {
        await Task.Yield();
        const int bound = 2;
        var cache = new SegmentHandleCache(bound);
        using var fx = new LogFixture(SmallSegments);
        int batches = FillAndReopen(fx, 40, out PartitionLog log, cache);
        using (log)
        {
            LogReadResult held = log.Read(0, 1 << 20, log.HighWatermark, minOneBatch: true);
            LogSegment firstSegment = log.Segments[0];

            // Read everything else many times over: the cache evicts constantly around the lease.
            for (int round = 0; round < 3; round++)
            {
                for (int i = 2; i < batches; i++)
                {
                    AssertReadsBatch(log, i);
                }
            }

            Assert.True(cache.Evictions > batches, $"{cache.Evictions} evictions");
            Assert.True(firstSegment.IsFileOpen, "a leased segment is never closed");
            byte[] bytes = new byte[held.SizeInBytes];
            held.Records!.CopyTo(bytes);
            Assert.Equal(0, TestBatches.Parse(bytes)[0].BaseOffset);

            held.Records!.Dispose();
            for (int i = 2; i < batches && firstSegment.IsFileOpen; i++)
            {
                AssertReadsBatch(log, i);
            }

            Assert.False(firstSegment.IsFileOpen, "closed once idle and the cache needed room");
            Assert.True(OpenLogFiles(fx.Directory) <= bound + 1);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ConcurrentReaders_DuringConstantEviction_AlwaysGetTheRightBytes()
    {
        await Task.Yield();
        var cache = new SegmentHandleCache(2);
        using var fx = new LogFixture(SmallSegments);
        int batches = FillAndReopen(fx, 60, out PartitionLog log, cache);
        using (log)
        {
            long reads = 0;
            Task[] readers = new Task[4];
            for (int r = 0; r < readers.Length; r++)
            {
                int seed = r;
                readers[r] = Task.Run(() =>
                {
                    var random = new Random(seed);
                    for (int k = 0; k < 1500; k++)
                    {
                        int i = random.Next(batches);
                        LogReadResult read = log.Read(2L * i, 150, log.HighWatermark, minOneBatch: true);
                        Assert.Equal(ErrorCode.None, read.Error);
                        byte[] bytes = new byte[read.SizeInBytes];

                        // Hold the region across other readers' evictions before copying it.
                        Thread.Yield();
                        read.Records!.CopyTo(bytes);
                        read.Records.Dispose();
                        (long baseOffset, long lastOffset, _) = TestBatches.Parse(bytes)[0];
                        Assert.Equal((2L * i, (2L * i) + 1), (baseOffset, lastOffset));
                        Interlocked.Increment(ref reads);
                    }
                });
            }

            await Task.WhenAll(readers);
            Assert.Equal(6000, reads);
            Assert.True(cache.Evictions > 100, $"{cache.Evictions} evictions");
            Assert.True(OpenLogFiles(fx.Directory) <= cache.Capacity + 1);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task DeletedSegments_CloseTheirFiles_AtOnceOrWhenTheLastReaderIsDone()
    {
        await Task.Yield();
        var cache = new SegmentHandleCache(100);
        using var fx = new LogFixture(SmallSegments with { RetentionBytes = 1500 });
        int batches = FillAndReopen(fx, 40, out PartitionLog log, cache);
        using (log)
        {
            for (int i = 0; i < batches; i++)
            {
                AssertReadsBatch(log, i); // opens every segment: the bound is not reached
            }

            int openBefore = OpenLogFiles(fx.Directory);
            Assert.Equal(log.SegmentCount, openBefore);
            LogReadResult held = log.Read(0, 1 << 20, log.HighWatermark, minOneBatch: true);

            // Retention: renamed *.deleted, files closed before file.delete.delay.ms except the held one.
            int deleted = log.DeleteOldSegments();
            Assert.True(deleted > 5, $"{deleted} segments deleted");
            Assert.Equal(openBefore - deleted + 1, OpenLogFiles(fx.Directory));
            byte[] bytes = new byte[held.SizeInBytes];
            held.Records!.CopyTo(bytes);
            Assert.Equal(0, TestBatches.Parse(bytes)[0].BaseOffset);
            held.Records.Dispose();
            Assert.Equal(openBefore - deleted, OpenLogFiles(fx.Directory));

            // DeleteRecords goes the same way.
            long newStart = log.Segments[2].BaseOffset;
            Assert.Equal(ErrorCode.None, log.DeleteRecordsBefore(newStart).Error);
            Assert.Equal(openBefore - deleted - 2, OpenLogFiles(fx.Directory));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task LogManager_SharesOneBound_AndTopicDeletionReleasesEveryFile()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var config = new LogManagerConfig { LogDirs = new[] { dir.Path }, DefaultLogConfig = SmallSegments, OpenSegmentHandlesMax = 4 };
        var topic = "handles-" + Guid.NewGuid().ToString("N").Substring(0, 8);
        using (var manager = new LogManager(config))
        {
            manager.Startup();
            for (int p = 0; p < 3; p++)
            {
                PartitionLog log = manager.GetOrCreateLog(new TopicPartition(topic, p), Guid.NewGuid());
                for (int i = 0; i < 20; i++)
                {
                    Assert.Equal(ErrorCode.None, log.Append(TestBatches.Create(2, fill: (byte)i), 0).Error);
                }

                log.UpdateHighWatermark(log.LogEndOffset);
            }
        }

        using (var manager = new LogManager(config))
        {
            manager.Startup();
            Assert.Equal(3, OpenLogFiles(dir.Path)); // the active segments only
            for (int p = 0; p < 3; p++)
            {
                PartitionLog log = manager.GetLog(new TopicPartition(topic, p))!;
                for (int i = 0; i < 20; i++)
                {
                    AssertReadsBatch(log, i);
                    Assert.True(OpenLogFiles(dir.Path) <= 4 + 3, $"{OpenLogFiles(dir.Path)} open .log files");
                }
            }

            Assert.Equal(4, manager.HandleCache.OpenSegments);
            for (int p = 0; p < 3; p++)
            {
                Assert.True(manager.DeleteLog(new TopicPartition(topic, p)));
            }

            await manager.WhenDirectoryDeletesComplete();
            Assert.Equal(0, OpenLogFiles(dir.Path));
            Assert.Equal(0, manager.HandleCache.OpenSegments);
        }
    }

    /// <summary>Appends 2-record batches, closes cleanly and reopens, so that no sealed segment starts open.</summary>
    private static int FillAndReopen(LogFixture fx, int batches, out PartitionLog log, SegmentHandleCache cache)
    {
        using (PartitionLog writer = fx.Create(cache))
        {
            for (int i = 0; i < batches; i++)
            {
                Assert.Equal(ErrorCode.None, writer.Append(TestBatches.Create(2, fill: (byte)i), 0).Error);
            }

            writer.UpdateHighWatermark(writer.LogEndOffset);
        }

        log = fx.Open(clean: true, highWatermark: 2L * batches, handleCache: cache);
        Assert.Equal(2L * batches, log.HighWatermark);
        return batches;
    }

    /// <summary>Reads batch <paramref name="i"/> (offsets 2i, 2i+1) alone and checks its bytes.</summary>
    private static void AssertReadsBatch(PartitionLog log, int i)
    {
        LogReadResult read = log.Read(2L * i, 150, log.HighWatermark, minOneBatch: true);
        Assert.Equal(ErrorCode.None, read.Error);
        byte[] bytes = new byte[read.SizeInBytes];
        read.Records!.CopyTo(bytes);
        read.Records.Dispose(); // what the network does once a region is sent
        (long baseOffset, long lastOffset, _) = Assert.Single(TestBatches.Parse(bytes));
        Assert.Equal((2L * i, (2L * i) + 1), (baseOffset, lastOffset));
        Assert.Equal((byte)i, bytes[^2]); // the last value byte (before the empty header count) is the batch's fill
    }

    /// <summary>This process's open descriptors on .log files under <paramref name="directory"/> (deleted ones included).</summary>
    private static int OpenLogFiles(string directory)
    {
        int count = 0;
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while listing
            }

            if (target is not null && target.StartsWith(directory, StringComparison.Ordinal) && target.Contains(LogSegment.LogSuffix, StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }
}
