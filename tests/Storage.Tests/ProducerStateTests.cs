using Broker.Protocol;
using Broker.Storage.Producer;

namespace Broker.Storage.Tests;

public class ProducerStateTests
{
    private static byte[] Batch(long pid, short epoch, int seq, int count = 2) =>
        TestBatches.Create(count, producerId: pid, producerEpoch: epoch, baseSequence: seq);

    [Fact(Timeout = 30_000)]
    public async Task RetriedBatch_IsADuplicate_WithItsOriginalOffsets()
    {
        await Task.Yield();
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();
        LogAppendInfo first = log.Append(Batch(7, 0, 0), 0);
        log.Append(Batch(8, 0, 0), 0);
        LogAppendInfo second = log.Append(Batch(7, 0, 2), 0);

        LogAppendInfo retry = log.Append(Batch(7, 0, 0), 0);
        Assert.True(retry.IsDuplicate);
        Assert.Equal((first.FirstOffset, first.LastOffset), (retry.FirstOffset, retry.LastOffset));
        Assert.True(log.Append(Batch(7, 0, 2), 0).IsDuplicate);
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(second.FirstOffset, log.CheckSequence(7, 0, 2, 3).FirstOffset);
    }

    [Fact(Timeout = 30_000)]
    public async Task OnlyTheLastFiveBatchesAreRemembered()
    {
        await Task.Yield();
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal(ErrorCode.None, log.Append(Batch(1, 0, i * 2), 0).Error);
        }

        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, log.Append(Batch(1, 0, 2), 0).Error); // 6th newest: forgotten
        Assert.True(log.Append(Batch(1, 0, 4), 0).IsDuplicate); // 5th newest
    }

    [Fact(Timeout = 30_000)]
    public async Task Gaps_StaleEpochs_AndNewEpochs()
    {
        await Task.Yield();
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();
        Assert.Equal(ErrorCode.None, log.Append(Batch(3, 1, 0), 0).Error);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, log.Append(Batch(3, 1, 5), 0).Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, log.Append(Batch(3, 0, 2), 0).Error);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, log.Append(Batch(3, 2, 7), 0).Error); // a new epoch starts at 0
        Assert.Equal(ErrorCode.None, log.Append(Batch(3, 2, 0), 0).Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, log.Append(Batch(3, 1, 2), 0).Error);
        Assert.Equal(4, log.LogEndOffset);

        // Unknown producer ids are accepted at any sequence (Kafka since KIP-360).
        Assert.Equal(ErrorCode.None, log.Append(Batch(99, 0, 42), 0).Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task SequencesWrapAtIntMaxValue()
    {
        await Task.Yield();
        Assert.True(ProducerStateManager.InSequence(int.MaxValue, 0));
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();
        Assert.Equal(ErrorCode.None, log.Append(Batch(5, 0, int.MaxValue - 1, count: 2), 0).Error);
        Assert.Equal(ErrorCode.None, log.Append(Batch(5, 0, 0, count: 1), 0).Error);
        Assert.True(log.Append(Batch(5, 0, int.MaxValue - 1, count: 2), 0).IsDuplicate);
    }

    [Fact(Timeout = 30_000)]
    public async Task State_SurvivesCleanRestart_ViaSnapshot_AndCrash_ViaReplay()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1000 });
        PartitionLog log = fx.Create();
        LogAppendInfo last = default;
        for (int i = 0; i < 20; i++)
        {
            last = log.Append(Batch(11, 0, i * 2), 0);
        }

        log.Close(clean: true);
        Assert.NotEmpty(Directory.GetFiles(fx.Directory, "*.snapshot"));
        log = fx.Open(clean: true);
        LogAppendInfo retry = log.Append(Batch(11, 0, 38), 0);
        Assert.True(retry.IsDuplicate);
        Assert.Equal(last.FirstOffset, retry.FirstOffset);

        // Crash: the newest state comes from the last snapshot (at a roll) plus replaying the log.
        log.Append(Batch(11, 0, 40), 0);
        log.CloseWithoutFlush();
        foreach (string snapshot in Directory.GetFiles(fx.Directory, "*.snapshot"))
        {
            if (snapshot.EndsWith(LogSegment.FileName(log.LogEndOffset - 2, ".snapshot"), StringComparison.Ordinal))
            {
                File.Delete(snapshot); // the clean-shutdown snapshot: force a replay
            }
        }

        log = fx.Open(clean: false);
        Assert.True(log.Append(Batch(11, 0, 40), 0).IsDuplicate);
        Assert.Equal(ErrorCode.None, log.Append(Batch(11, 0, 42), 0).Error);
        log.Close();
    }

    [Fact(Timeout = 30_000)]
    public async Task CorruptSnapshot_IsIgnored_AndStateRebuiltFromTheLog()
    {
        await Task.Yield();
        using var fx = new LogFixture();
        PartitionLog log = fx.Create();
        log.Append(Batch(21, 0, 0), 0);
        log.Close(clean: true);
        foreach (string snapshot in Directory.GetFiles(fx.Directory, "*.snapshot"))
        {
            byte[] bytes = File.ReadAllBytes(snapshot);
            bytes[^1] ^= 0x55;
            File.WriteAllBytes(snapshot, bytes);
        }

        log = fx.Open(clean: true);
        Assert.True(log.Append(Batch(21, 0, 0), 0).IsDuplicate);
        log.Close();
    }
}
