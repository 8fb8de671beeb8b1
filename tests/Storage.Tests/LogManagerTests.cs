using Broker.Storage.Checkpoints;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Storage.Tests;

public class LogManagerTests
{
    private static TopicPartition UniqueTopic(int partition = 0) => new("lm-" + Guid.NewGuid().ToString("N").Substring(0, 8), partition);

    [Fact(Timeout = 30_000)]
    public async Task CreateGetDelete_AndDirsAreBalanced()
    {
        await Task.Yield();
        using var a = new TempDir();
        using var b = new TempDir();
        var manager = new LogManager(new LogManagerConfig { LogDirs = new[] { a.Path, b.Path } }, new FakeTimeProvider());
        manager.Startup();
        var topic = UniqueTopic();
        var topicId = Guid.NewGuid();
        var logs = new List<PartitionLog>();
        for (int p = 0; p < 4; p++)
        {
            logs.Add(manager.GetOrCreateLog(topic with { Partition = p }, topicId));
        }

        Assert.Same(logs[0], manager.GetOrCreateLog(topic, topicId));
        Assert.Same(logs[1], manager.GetLog(topic with { Partition = 1 }));
        Assert.Equal(2, Directory.GetDirectories(a.Path).Length);
        Assert.Equal(2, Directory.GetDirectories(b.Path).Length);
        Assert.Equal(topicId, PartitionMetadataFile.Read(logs[0].Directory));
        Assert.True(File.Exists(Path.Combine(a.Path, "meta.properties")));

        logs[0].Append(TestBatches.Create(1), 0);
        string directory = logs[0].Directory;
        Assert.True(manager.DeleteLog(topic));
        Assert.Null(manager.GetLog(topic));
        Assert.False(Directory.Exists(directory));
        await manager.WhenDirectoryDeletesComplete();
        string parent = Path.GetDirectoryName(directory)!;
        Assert.Empty(Directory.GetDirectories(parent, "*-delete"));
        manager.Shutdown();
    }

    [Fact(Timeout = 30_000)]
    public async Task CleanShutdown_WritesMarkerAndCheckpoints_AndRestartKeepsOffsets()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var config = new LogManagerConfig { LogDirs = new[] { dir.Path } };
        var topic = UniqueTopic();
        var manager = new LogManager(config, new FakeTimeProvider());
        manager.Startup();
        PartitionLog log = manager.GetOrCreateLog(topic, Guid.NewGuid());
        for (int i = 0; i < 5; i++)
        {
            log.Append(TestBatches.Create(2), 1);
        }

        log.UpdateHighWatermark(8);
        manager.Shutdown();
        Assert.True(File.Exists(Path.Combine(dir.Path, LogManager.CleanShutdownFileName)));
        Assert.Equal($"0\n1\n{topic.Topic} 0 8\n", File.ReadAllText(Path.Combine(dir.Path, "replication-offset-checkpoint")));
        Assert.Equal($"0\n1\n{topic.Topic} 0 10\n", File.ReadAllText(Path.Combine(dir.Path, "recovery-point-offset-checkpoint")));

        var restarted = new LogManager(config, new FakeTimeProvider());
        restarted.Startup();
        Assert.False(File.Exists(Path.Combine(dir.Path, LogManager.CleanShutdownFileName)));
        PartitionLog reopened = restarted.GetLog(topic)!;
        Assert.Equal(10, reopened.LogEndOffset);
        Assert.Equal(8, reopened.HighWatermark);
        restarted.Shutdown();
    }

    [Fact(Timeout = 30_000)]
    public async Task RetentionRunsOnTheFakeClock()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var config = new LogManagerConfig
        {
            LogDirs = new[] { dir.Path },
            RetentionCheckIntervalMs = 1000,
            DefaultLogConfig = LogConfig.Default with { SegmentBytes = 1000, RetentionMs = 10_000 },
        };
        using var manager = new LogManager(config, time);
        manager.Startup();
        PartitionLog log = manager.GetOrCreateLog(UniqueTopic(), Guid.NewGuid());
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < 20; i++)
        {
            log.Append(TestBatches.Create(1, valueBytes: 200, baseTimestamp: now), 0);
        }

        log.UpdateHighWatermark(log.LogEndOffset);
        int segments = log.SegmentCount;
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(segments, log.SegmentCount);
        time.Advance(TimeSpan.FromSeconds(10)); // timer fires after the data is older than retention.ms
        Assert.Equal(1, log.SegmentCount);
        Assert.Equal(log.SegmentBaseOffsets[0], log.LogStartOffset);
    }

    [Fact(Timeout = 30_000)]
    public async Task UnreadablePartition_IsOffline_AndOthersLoad()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var config = new LogManagerConfig { LogDirs = new[] { dir.Path } };
        var good = UniqueTopic();
        var bad = UniqueTopic();
        var manager = new LogManager(config, new FakeTimeProvider());
        manager.Startup();
        manager.GetOrCreateLog(good, Guid.NewGuid()).Append(TestBatches.Create(1), 0);
        PartitionLog badLog = manager.GetOrCreateLog(bad, Guid.NewGuid());
        badLog.Append(TestBatches.Create(1), 0);
        string badDir = badLog.Directory;
        manager.Shutdown();

        File.WriteAllText(Path.Combine(badDir, "partition.metadata"), "version: 0\ntopic_id: not-a-uuid!\n");

        var restarted = new LogManager(config, new FakeTimeProvider());
        restarted.Startup();
        Assert.NotNull(restarted.GetLog(good));
        Assert.Null(restarted.GetLog(bad));
        Assert.True(restarted.IsOffline(bad));
        Assert.Throws<IOException>(() => restarted.GetOrCreateLog(bad, Guid.NewGuid()));
        restarted.Shutdown();
    }

    [Fact(Timeout = 30_000)]
    public async Task UncleanShutdown_RecoversATornTail()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var config = new LogManagerConfig { LogDirs = new[] { dir.Path } };
        var topic = UniqueTopic();
        var manager = new LogManager(config, new FakeTimeProvider());
        manager.Startup();
        PartitionLog log = manager.GetOrCreateLog(topic, Guid.NewGuid());
        for (int i = 0; i < 5; i++)
        {
            log.Append(TestBatches.Create(1, valueBytes: 100), 0);
        }

        string segment = Path.Combine(log.Directory, LogSegment.FileName(0, ".log"));
        log.CloseWithoutFlush(); // the process dies: no marker, no checkpoints
        using (var handle = File.OpenHandle(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(handle, RandomAccess.GetLength(handle) - 10);
        }

        var restarted = new LogManager(config, new FakeTimeProvider());
        restarted.Startup();
        Assert.Equal(4, restarted.GetLog(topic)!.LogEndOffset);
        restarted.Shutdown();
    }

    [Fact(Timeout = 30_000)]
    public async Task FlushMs_AndProducerExpiry_RunOnTheFakeClock()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var config = new LogManagerConfig
        {
            LogDirs = new[] { dir.Path },
            FlushSchedulerIntervalMs = 1000,
            ProducerIdExpirationMs = 60_000,
            ProducerIdExpirationCheckIntervalMs = 10_000,
            DefaultLogConfig = LogConfig.Default with { FlushMs = 5000 },
        };
        using var manager = new LogManager(config, time);
        manager.Startup();
        PartitionLog log = manager.GetOrCreateLog(UniqueTopic(), Guid.NewGuid());
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        log.Append(TestBatches.Create(2, baseTimestamp: now, producerId: 77, producerEpoch: 0, baseSequence: 0), 0);
        Assert.Equal(0, log.RecoveryPoint);

        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(0, log.RecoveryPoint);
        time.Advance(TimeSpan.FromSeconds(3)); // flush.ms passed: the scheduler fsyncs
        Assert.Equal(2, log.RecoveryPoint);

        Assert.True(log.CheckSequence(77, 0, 0, 1).IsDuplicate);
        time.Advance(TimeSpan.FromSeconds(70)); // idle longer than producer.id.expiration.ms
        Assert.False(log.CheckSequence(77, 0, 0, 1).IsDuplicate);
    }
}
