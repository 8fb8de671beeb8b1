using Broker.Protocol;

namespace Broker.Storage.Tests;

public class ConcurrencyTests
{
    /// <summary>
    /// One writer appends and rolls while readers fetch at random offsets below the log end:
    /// every read must return whole batches with valid CRCs starting at the batch holding the offset.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task Readers_SeeOnlyWholeBatches_WhileTheWriterAppendsAndRolls()
    {
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 16 * 1024, IndexIntervalBytes = 512 });
        using PartitionLog log = fx.Create();
        using var stop = new CancellationTokenSource();
        long reads = 0;
        Task writer = Task.Run(() =>
        {
            var random = new Random(11);
            for (int i = 0; i < 3000; i++)
            {
                log.Append(TestBatches.Create(random.Next(1, 4), valueBytes: random.Next(10, 400)), 0);
                log.UpdateHighWatermark(log.LogEndOffset);
            }

            stop.Cancel();
        });

        Task[] readers = new Task[2];
        for (int r = 0; r < readers.Length; r++)
        {
            int seed = r;
            readers[r] = Task.Run(() =>
            {
                var random = new Random(seed);
                byte[] buffer = new byte[1 << 20];
                while (!stop.IsCancellationRequested)
                {
                    long end = log.HighWatermark;
                    if (end == 0)
                    {
                        continue;
                    }

                    long offset = random.NextInt64(end);
                    LogReadResult read = log.Read(offset, random.Next(1, 8192), end, minOneBatch: true);
                    Assert.Equal(ErrorCode.None, read.Error);
                    Assert.NotNull(read.Records);
                    Span<byte> bytes = buffer.AsSpan(0, read.SizeInBytes);
                    read.Records!.CopyTo(bytes);
                    var batches = TestBatches.Parse(bytes);
                    Assert.True(batches[0].BaseOffset <= offset && batches[0].LastOffset >= offset);
                    Assert.True(batches[^1].LastOffset < end);
                    Interlocked.Increment(ref reads);
                }
            });
        }

        await Task.WhenAll(readers.Append(writer));
        Assert.True(Interlocked.Read(ref reads) > 0);
    }
}

public class DelayedDeleteTests
{
    /// <summary>A region handed to the network just before retention deletes its segment stays readable for file.delete.delay.ms.</summary>
    [Fact(Timeout = 30_000)]
    public async Task FileRecords_StayReadable_UntilTheDeleteDelayPasses()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { SegmentBytes = 1000, RetentionBytes = 0, FileDeleteDelayMs = 60_000 });
        using PartitionLog log = fx.Create();
        for (int i = 0; i < 12; i++)
        {
            log.Append(TestBatches.Create(1, valueBytes: 200), 0);
        }

        log.UpdateHighWatermark(log.LogEndOffset);
        LogReadResult read = log.Read(0, 1 << 20, log.HighWatermark, true);
        Assert.True(log.DeleteOldSegments() > 0);
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(0, 100, log.HighWatermark, true).Error);

        byte[] bytes = new byte[read.SizeInBytes];
        read.Records!.CopyTo(bytes); // still readable: the file was only renamed
        Assert.Equal(0, TestBatches.Parse(bytes)[0].BaseOffset);

        fx.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(log.DeletePendingSegments() > 0);
        Assert.Empty(Directory.GetFiles(fx.Directory, "*.deleted"));
    }
}
