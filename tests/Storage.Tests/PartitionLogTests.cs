using Broker.Protocol;

namespace Broker.Storage.Tests;

public class PartitionLogTests
{
    private static byte[] ReadAll(LogReadResult result)
    {
        Assert.NotNull(result.Records);
        byte[] bytes = new byte[result.Records!.SizeInBytes];
        result.Records.CopyTo(bytes);
        return bytes;
    }

    [Fact(Timeout = 30_000)]
    public async Task Append_AssignsDenseOffsets_AndReadReturnsThem()
    {
        await Task.Yield(); // xunit enforces Timeout only on async tests
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();
        LogAppendInfo first = log.Append(TestBatches.Create(3), leaderEpoch: 5);
        LogAppendInfo second = log.Append(TestBatches.Concat(TestBatches.Create(2), TestBatches.Create(4)), leaderEpoch: 5);

        Assert.Equal((0L, 2L), (first.FirstOffset, first.LastOffset));
        Assert.Equal((3L, 8L), (second.FirstOffset, second.LastOffset));
        Assert.Equal(9, log.LogEndOffset);
        log.UpdateHighWatermark(9);

        LogReadResult read = log.Read(0, 1 << 20, log.HighWatermark, minOneBatch: true);
        Assert.Equal(ErrorCode.None, read.Error);
        var batches = TestBatches.Parse(ReadAll(read));
        Assert.Equal(new[] { (0L, 2L), (3L, 4L), (5L, 8L) }, batches.Select(b => (b.BaseOffset, b.LastOffset)).ToArray());

        // A fetch in the middle of a batch returns that whole batch (Kafka semantics).
        LogReadResult middle = log.Read(4, 1 << 20, 9, minOneBatch: true);
        Assert.Equal(3L, TestBatches.Parse(ReadAll(middle))[0].BaseOffset);

        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(10, 1000, 10, true).Error);
        Assert.Equal(ErrorCode.None, log.Read(9, 1000, 9, true).Error);
        Assert.Null(log.Read(9, 1000, 9, true).Records);
    }

    [Fact(Timeout = 30_000)]
    public async Task Read_StopsAtMaxOffsetAndByteBudget_WithWholeBatches()
    {
        await Task.Yield(); // xunit enforces Timeout only on async tests
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 10; i++)
        {
            log.Append(TestBatches.Create(2, valueBytes: 100), 0); // each batch ~ 61 + 2*~105
        }

        int batchSize = TestBatches.Create(2, valueBytes: 100).Length;
        log.UpdateHighWatermark(20);

        // Upper offset bound: batches starting at or above 6 are excluded.
        var bounded = TestBatches.Parse(ReadAll(log.Read(0, 1 << 20, 6, true)));
        Assert.Equal(3, bounded.Count);
        Assert.Equal(5L, bounded[^1].LastOffset);

        // Byte budget: 2.5 batches -> 2 whole batches.
        var budget = TestBatches.Parse(ReadAll(log.Read(0, (batchSize * 5) / 2, 20, true)));
        Assert.Equal(2, budget.Count);

        // Budget smaller than a batch: the first batch whole with minOneBatch, nothing without.
        Assert.Single(TestBatches.Parse(ReadAll(log.Read(4, 10, 20, true))));
        Assert.Null(log.Read(4, 10, 20, false).Records);
    }

    [Fact(Timeout = 30_000)]
    public async Task Roll_OnSegmentBytes_AndReadsCrossSegmentsOneAtATime()
    {
        await Task.Yield(); // xunit enforces Timeout only on async tests
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 2000, IndexIntervalBytes = 1 });
        using PartitionLog log = fx.Create();
        int batchSize = TestBatches.Create(1, valueBytes: 200).Length;
        for (int i = 0; i < 30; i++)
        {
            log.Append(TestBatches.Create(1, valueBytes: 200), 0);
        }

        int perSegment = 2000 / batchSize;
        Assert.Equal((30 + perSegment - 1) / perSegment, log.SegmentCount);
        log.UpdateHighWatermark(30);

        long next = 0;
        int reads = 0;
        while (next < 30)
        {
            LogReadResult read = log.Read(next, 1 << 20, 30, true);
            var batches = TestBatches.Parse(ReadAll(read));
            Assert.Equal(next, batches[0].BaseOffset);
            Assert.True(batches.Count <= perSegment, "a read stays within one segment");
            next = batches[^1].LastOffset + 1;
            reads++;
        }

        Assert.Equal(log.SegmentCount, reads);
        foreach (long baseOffset in log.SegmentBaseOffsets)
        {
            Assert.True(File.Exists(fx.SegmentPath(baseOffset, ".log")));
            Assert.True(File.Exists(fx.SegmentPath(baseOffset, ".index")));
            Assert.True(File.Exists(fx.SegmentPath(baseOffset, ".timeindex")));
        }

        // Sealed segments have trimmed indexes; the active one is preallocated to segment.index.bytes.
        long[] bases = log.SegmentBaseOffsets;
        Assert.Equal(0, new FileInfo(fx.SegmentPath(bases[0], ".index")).Length % 8);
        Assert.True(new FileInfo(fx.SegmentPath(bases[0], ".index")).Length < fx.Config.SegmentIndexBytes);
        Assert.Equal(fx.Config.SegmentIndexBytes, new FileInfo(fx.SegmentPath(bases[^1], ".index")).Length);
    }

    [Fact(Timeout = 60_000)]
    public async Task Read_AtEveryOffset_FindsTheBatchHoldingIt()
    {
        await Task.Yield(); // xunit enforces Timeout only on async tests
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 8 * 1024, IndexIntervalBytes = 300 });
        using PartitionLog log = fx.Create();
        var random = new Random(7);
        var expected = new List<(long Base, long Last)>();
        for (int i = 0; i < 120; i++)
        {
            LogAppendInfo info = log.Append(TestBatches.Create(random.Next(1, 6), valueBytes: random.Next(1, 200)), 0);
            expected.Add((info.FirstOffset, info.LastOffset));
        }

        log.UpdateHighWatermark(log.LogEndOffset);
        foreach ((long baseOffset, long lastOffset) in expected)
        {
            for (long offset = baseOffset; offset <= lastOffset; offset++)
            {
                var batches = TestBatches.Parse(ReadAll(log.Read(offset, 1, log.LogEndOffset, true)));
                Assert.Equal((baseOffset, lastOffset), (batches[0].BaseOffset, batches[0].LastOffset));
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Reopen_AfterCleanClose_KeepsEverything()
    {
        await Task.Yield(); // xunit enforces Timeout only on async tests
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1500 });
        long leo;
        using (PartitionLog log = fx.Create())
        {
            for (int i = 0; i < 20; i++)
            {
                log.Append(TestBatches.Create(2, valueBytes: 100), 3);
            }

            leo = log.LogEndOffset;
        }

        using PartitionLog reopened = fx.Open(clean: true, highWatermark: leo);
        Assert.Equal(leo, reopened.LogEndOffset);
        Assert.Equal(leo, reopened.HighWatermark);
        Assert.Equal(3, reopened.LeaderEpochCache.LatestEpoch);
        var all = new List<long>();
        long next = 0;
        while (next < leo)
        {
            var batches = TestBatches.Parse(ReadAll(reopened.Read(next, 1 << 20, leo, true)));
            foreach (var b in batches)
            {
                all.Add(b.BaseOffset);
            }

            next = batches[^1].LastOffset + 1;
        }

        Assert.Equal(20, all.Count);
        LogAppendInfo more = reopened.Append(TestBatches.Create(1), 3);
        Assert.Equal(leo, more.FirstOffset);
    }
}
