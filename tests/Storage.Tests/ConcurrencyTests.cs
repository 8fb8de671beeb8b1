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
