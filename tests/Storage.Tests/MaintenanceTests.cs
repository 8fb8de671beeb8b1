using Broker.Protocol;
using Broker.Protocol.Records;

namespace Broker.Storage.Tests;

public class MaintenanceTests
{
    private const long T0 = 1_700_000_000_000;

    [Fact(Timeout = 30_000)]
    public async Task TimestampLookup_FindsFirstBatchAtOrAfterTarget_AcrossSegments()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1000, IndexIntervalBytes = 1 });
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 40; i++)
        {
            // Batch i: offsets 2i..2i+1, timestamps T0 + 10i, T0 + 10i + 1.
            log.Append(TestBatches.Create(2, valueBytes: 50, baseTimestamp: T0 + (10 * i)), 0);
        }

        Assert.True(log.SegmentCount > 3);
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(2L * i, log.LookupOffsetForTimestamp(T0 + (10 * i))!.Value.Offset);
            Assert.Equal((2L * i) + 1, log.LookupOffsetForTimestamp(T0 + (10 * i) + 1)!.Value.Offset); // second record of batch i
            if (i < 39)
            {
                Assert.Equal(2L * (i + 1), log.LookupOffsetForTimestamp(T0 + (10 * i) + 2)!.Value.Offset);
            }
        }

        // Inside a batch: the first record at or after the timestamp (record i has timestamp base + i).
        log.Append(TestBatches.Create(10, baseTimestamp: T0 + 1000), 0); // offsets 80..89
        Assert.Equal(84, log.LookupOffsetForTimestamp(T0 + 1004)!.Value.Offset);

        Assert.Equal(0, log.LookupOffsetForTimestamp(0)!.Value.Offset);
        Assert.Null(log.LookupOffsetForTimestamp(T0 + 100_000));
        Assert.Equal(0, log.LookupOffsetForTimestamp(PartitionLog.EarliestTimestamp)!.Value.Offset);
        Assert.Equal(90, log.LookupOffsetForTimestamp(PartitionLog.LatestTimestamp)!.Value.Offset);
        TimestampAndOffset max = log.LookupOffsetForTimestamp(PartitionLog.MaxTimestamp)!.Value;
        Assert.Equal((T0 + 1009, 89L), (max.Timestamp, max.Offset));
    }

    [Fact(Timeout = 30_000)]
    public async Task LogAppendTime_RewritesMaxTimestampTypeAndCrc()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { MessageTimestampType = TimestampType.LogAppendTime });
        using PartitionLog log = fx.Create();
        LogAppendInfo info = log.Append(TestBatches.Create(3, baseTimestamp: 5), 2);
        long now = fx.Time.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.Equal(now, info.LogAppendTimeMs);
        log.UpdateHighWatermark(3);
        LogReadResult read = log.Read(0, 1000, 3, true);
        byte[] bytes = new byte[read.SizeInBytes];
        read.Records!.CopyTo(bytes);
        var header = new RecordBatchHeader(bytes);
        Assert.Equal(TimestampType.LogAppendTime, header.TimestampType);
        Assert.Equal(now, header.MaxTimestamp);
        Assert.Equal(2, header.PartitionLeaderEpoch);
        Assert.True(header.IsCrcValid);
    }

    [Fact(Timeout = 30_000)]
    public async Task Retention_ByTime_DeletesWholeOldSegmentsButNeverTheActiveOne()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1000, RetentionMs = 60_000, FileDeleteDelayMs = 1000 });
        using PartitionLog log = fx.Create();
        long now = fx.Time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < 10; i++)
        {
            log.Append(TestBatches.Create(2, valueBytes: 100, baseTimestamp: now - 120_000), 0); // old
        }

        int oldSegments = log.SegmentCount;
        for (int i = 0; i < 10; i++)
        {
            log.Append(TestBatches.Create(2, valueBytes: 100, baseTimestamp: now), 0); // fresh
        }

        log.UpdateHighWatermark(log.LogEndOffset);
        long[] before = log.SegmentBaseOffsets;
        int deleted = log.DeleteOldSegments();
        Assert.True(deleted >= oldSegments - 1, $"deleted {deleted} of {oldSegments} old segments");
        Assert.True(log.SegmentCount >= 1);
        Assert.Equal(log.SegmentBaseOffsets[0], log.LogStartOffset);
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(0, 100, log.LogEndOffset, true).Error);

        // Files are renamed *.deleted at once and removed after file.delete.delay.ms.
        Assert.True(File.Exists(fx.SegmentPath(before[0], ".log.deleted")));
        Assert.Equal(0, log.DeletePendingSegments());
        fx.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(deleted, log.DeletePendingSegments());
        Assert.False(File.Exists(fx.SegmentPath(before[0], ".log.deleted")));

        // Everything old now: still the active segment stays.
        fx.Time.Advance(TimeSpan.FromHours(1));
        log.DeleteOldSegments();
        Assert.Equal(1, log.SegmentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Retention_BySize_KeepsTheNewestBytes_AndStopsAtHighWatermark()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1000, RetentionBytes = 2500 });
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 30; i++)
        {
            log.Append(TestBatches.Create(1, valueBytes: 200), 0);
        }

        // High watermark 0: nothing may go (segments must be below the high watermark).
        Assert.Equal(0, log.DeleteOldSegments());
        log.UpdateHighWatermark(log.LogEndOffset);
        Assert.True(log.DeleteOldSegments() > 0);
        Assert.True(log.SizeInBytes >= 2500 - 1000 && log.SizeInBytes <= 2500 + 1000, $"size {log.SizeInBytes}");
    }

    [Fact(Timeout = 30_000)]
    public async Task DeleteRecords_MovesLogStart_AndDeletesSegmentsBelow()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1000 });
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 30; i++)
        {
            log.Append(TestBatches.Create(1, valueBytes: 200), 0);
        }

        Assert.Equal(ErrorCode.OffsetOutOfRange, log.DeleteRecordsBefore(5).Error); // above the high watermark
        log.UpdateHighWatermark(30);
        long[] bases = log.SegmentBaseOffsets;
        long target = bases[2] + 1;
        var result = log.DeleteRecordsBefore(target);
        Assert.Equal((ErrorCode.None, target), result);
        Assert.Equal(target, log.LogStartOffset);
        Assert.Equal(bases[2], log.SegmentBaseOffsets[0]);
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(target - 1, 100, 30, true).Error);
        Assert.Equal(ErrorCode.None, log.Read(target, 1000, 30, true).Error);

        // Survives a reopen through the checkpointed log start offset.
        log.Close();
        using PartitionLog reopened = fx.Open(clean: true, logStartOffset: target, highWatermark: 30);
        Assert.Equal(target, reopened.LogStartOffset);
    }

    [Fact(Timeout = 30_000)]
    public async Task TruncateTo_RemovesTail_UpdatesEpochCacheAndAcceptsNewAppends()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1000, IndexIntervalBytes = 1 });
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 30; i++)
        {
            log.Append(TestBatches.Create(1, valueBytes: 200), i < 15 ? 1 : 2);
        }

        log.UpdateHighWatermark(30);
        Assert.Equal((1, 15L), log.EndOffsetForEpoch(1));
        Assert.Equal((2, 30L), log.EndOffsetForEpoch(2));
        Assert.Equal((-1, -1L), log.EndOffsetForEpoch(3));

        log.TruncateTo(12);
        Assert.Equal(12, log.LogEndOffset);
        Assert.Equal(12, log.HighWatermark);
        Assert.Equal(1, log.LeaderEpochCache.LatestEpoch);
        Assert.Equal((1, 12L), log.EndOffsetForEpoch(1));
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(13, 100, 13, true).Error);
        Assert.Equal(12, log.Append(TestBatches.Create(1), 3).FirstOffset);

        log.TruncateTo(0);
        Assert.Equal(0, log.LogEndOffset);
        Assert.Equal(0, log.Append(TestBatches.Create(1), 4).FirstOffset);
    }

    [Fact(Timeout = 30_000)]
    public async Task FlushMessages_MovesTheRecoveryPoint()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { FlushMessages = 5 });
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 4; i++)
        {
            log.Append(TestBatches.Create(1), 0);
        }

        Assert.Equal(0, log.RecoveryPoint);
        log.Append(TestBatches.Create(1), 0);
        Assert.Equal(5, log.RecoveryPoint);
    }

    [Fact(Timeout = 30_000)]
    public async Task SegmentMs_RollsAnOldActiveSegment()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentMs = 1000 });
        using PartitionLog log = fx.Create();
        log.Append(TestBatches.Create(1), 0);
        fx.Time.Advance(TimeSpan.FromSeconds(2));
        log.Append(TestBatches.Create(1), 0);
        Assert.Equal(new long[] { 0, 1 }, log.SegmentBaseOffsets);
    }

    [Fact(Timeout = 30_000)]
    public async Task Append_RejectsMalformedAndOversizedBatches()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { MaxMessageBytes = 500 });
        using PartitionLog log = fx.Create();
        Assert.Equal(ErrorCode.MessageTooLarge, log.Append(TestBatches.Create(1, valueBytes: 600), 0).Error);
        byte[] batch = TestBatches.Create(1);
        Assert.Equal(ErrorCode.CorruptMessage, log.Append(batch.AsMemory(0, batch.Length - 1), 0).Error);
        Assert.Equal(0, log.LogEndOffset);
    }
}
