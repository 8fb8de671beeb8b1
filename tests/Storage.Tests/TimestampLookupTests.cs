using Broker.Protocol.Compression;
using Broker.Protocol.Records;

namespace Broker.Storage.Tests;

/// <summary>
/// ListOffsets by timestamp answers with a record, not a batch, whatever the batch's codec
/// (Kafka LogSegment.findOffsetByTimestamp decompresses the batch), and MAX_TIMESTAMP with the
/// earliest record carrying the largest timestamp (KAFKA-16310).
/// </summary>
public class TimestampLookupTests
{
    private const long T0 = 1_700_000_000_000;

    public static TheoryData<CompressionType> Codecs => new()
    {
        CompressionType.None,
        CompressionType.Gzip,
        CompressionType.Snappy,
        CompressionType.Lz4,
        CompressionType.Zstd,
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Codecs))]
    public async Task ByTimestamp_FindsTheFirstRecordInsideABatch_ForEveryCodec(CompressionType codec)
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { IndexIntervalBytes = 1 });
        using PartitionLog log = fx.Create();

        // Batch 1: offsets 0..9, timestamps T0, T0+10, ..., T0+90. Batch 2: offsets 10..19, T0+100...
        Append(log, Build(codec, T0, 10, 10), 0);
        Append(log, Build(codec, T0 + 100, 10, 10), 0);
        log.UpdateHighWatermark(log.LogEndOffset);

        for (int i = 0; i < 20; i++)
        {
            TimestampAndOffset exact = log.LookupOffsetForTimestamp(T0 + (10 * i))!.Value;
            Assert.Equal((T0 + (10 * i), (long)i), (exact.Timestamp, exact.Offset));

            // Between two records: the later one, reported with its own timestamp.
            if (i < 19)
            {
                TimestampAndOffset between = log.LookupOffsetForTimestamp(T0 + (10 * i) + 3)!.Value;
                Assert.Equal((T0 + (10 * (i + 1)), (long)(i + 1)), (between.Timestamp, between.Offset));
            }
        }

        Assert.Null(log.LookupOffsetForTimestamp(T0 + 191));
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Codecs))]
    public async Task MaxTimestamp_IsTheEarliestRecordWithTheLargestTimestamp_ForEveryCodec(CompressionType codec)
    {
        await Task.Yield();
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();

        // Timestamps out of order inside batches; the largest (T0 + 500) appears at offsets 23 and 25.
        Append(log, Build(codec, T0, 10, 10), 0);                                   // 0..9
        Append(log, BuildWith(codec, new long[] { T0 + 5, T0 + 300, T0 + 7 }), 0);   // 10..12
        log.Roll();
        Append(log, Build(codec, T0 + 200, 10, 1), 0);                              // 13..22
        Append(log, BuildWith(codec, new long[] { T0 + 500, T0 + 1, T0 + 500, T0 + 2 }), 0); // 23..26
        Append(log, Build(codec, T0 + 400, 5, 1), 0);                               // 27..31

        TimestampAndOffset max = log.LookupOffsetForTimestamp(PartitionLog.MaxTimestamp)!.Value;
        Assert.Equal((T0 + 500, 23L), (max.Timestamp, max.Offset));
        Assert.Equal(0, max.LeaderEpoch);

        // Inside the first segment, the max is the middle record of a batch.
        using var fx2 = new LogFixture();
        using PartitionLog log2 = fx2.Create();
        Append(log2, BuildWith(codec, new long[] { T0 + 5, T0 + 300, T0 + 7 }), 3);
        TimestampAndOffset max2 = log2.LookupOffsetForTimestamp(PartitionLog.MaxTimestamp)!.Value;
        Assert.Equal((T0 + 300, 1L, 3), (max2.Timestamp, max2.Offset, max2.LeaderEpoch));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Zstd)]
    public async Task LogAppendTime_EveryRecordCarriesTheBatchTimestamp(CompressionType codec)
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { MessageTimestampType = TimestampType.LogAppendTime });
        using PartitionLog log = fx.Create();
        long first = fx.Time.GetUtcNow().ToUnixTimeMilliseconds();
        Append(log, Build(codec, 5, 4, 1), 0);                      // 0..3 at `first`
        fx.Time.Advance(TimeSpan.FromSeconds(1));
        Append(log, Build(codec, 5, 4, 1), 0);                      // 4..7 at first + 1000

        Assert.Equal((first, 0L), Pair(log.LookupOffsetForTimestamp(first - 1)));
        Assert.Equal((first + 1000, 4L), Pair(log.LookupOffsetForTimestamp(first + 1)));
        Assert.Equal((first + 1000, 4L), Pair(log.LookupOffsetForTimestamp(PartitionLog.MaxTimestamp)));
    }

    [Fact(Timeout = 30_000)]
    public async Task ByTimestamp_SkipsRecordsBelowTheLogStartOffset_InsideACompressedBatch()
    {
        await Task.Yield();
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();

        // Offsets 0..5 with timestamps 50, 10, 60, 20, 70, 30 (out of order).
        Append(log, BuildWith(CompressionType.Lz4, new long[] { T0 + 50, T0 + 10, T0 + 60, T0 + 20, T0 + 70, T0 + 30 }), 0);
        log.UpdateHighWatermark(6);
        Assert.Equal((T0 + 50, 0L), Pair(log.LookupOffsetForTimestamp(T0 + 40)));

        // DeleteRecords inside the batch: offsets below 3 no longer count (Kafka's startingOffset).
        log.DeleteRecordsBefore(3);
        Assert.Equal((T0 + 70, 4L), Pair(log.LookupOffsetForTimestamp(T0 + 40)));
        Assert.Equal((T0 + 20, 3L), Pair(log.LookupOffsetForTimestamp(T0 + 15)));
    }

    private static void Append(PartitionLog log, byte[] batch, int leaderEpoch) =>
        Assert.Equal(Broker.Protocol.ErrorCode.None, log.Append(batch, leaderEpoch).Error);

    private static (long, long) Pair(TimestampAndOffset? value)
    {
        Assert.NotNull(value);
        return (value.Value.Timestamp, value.Value.Offset);
    }

    private static byte[] Build(CompressionType codec, long firstTimestamp, int count, long stepMs)
    {
        long[] timestamps = new long[count];
        for (int i = 0; i < count; i++)
        {
            timestamps[i] = firstTimestamp + (i * stepMs);
        }

        return BuildWith(codec, timestamps);
    }

    private static byte[] BuildWith(CompressionType codec, long[] timestamps)
    {
        using var builder = new RecordBatchBuilder(codec);
        for (int i = 0; i < timestamps.Length; i++)
        {
            // Compressible values so every codec really compresses.
            builder.Append(timestamps[i], new byte[] { (byte)i }, new byte[200]);
        }

        using PooledBufferWriter built = builder.Build();
        byte[] batch = built.WrittenSpan.ToArray();
        Assert.Equal(codec, new RecordBatchHeader(batch).CompressionType);
        Assert.True(codec == CompressionType.None || batch.Length < 200 * timestamps.Length, "the payload was compressed");
        return batch;
    }
}
