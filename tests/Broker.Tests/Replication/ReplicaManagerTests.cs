using Broker.Protocol;
using Broker.Protocol.Records;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Replication.Purgatory;
using Broker.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Tests.Replication;

public sealed class ReplicaManagerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private ReplicaManager? _manager;

    public void Dispose()
    {
        _manager?.Shutdown();
        _dir.Dispose();
    }

    private ReplicaManager Start()
    {
        _manager?.Shutdown();
        var logs = new LogManager(new LogManagerConfig { LogDirs = [_dir.Path], NodeId = 1, ClusterId = "test-cluster" }, _time);
        var store = new TopicMetadataStore(new TopicMetadataStoreOptions { MetadataDir = _dir.Path, NodeId = 1 });
        _manager = new ReplicaManager(logs, store, 1, _time);
        _manager.Startup();
        return _manager;
    }

    private static byte[] Batch(int records, long producerId = -1, short epoch = -1, int baseSequence = -1)
    {
        using var builder = new RecordBatchBuilder(producerId: producerId, producerEpoch: epoch, baseSequence: baseSequence);
        for (int i = 0; i < records; i++)
        {
            builder.Append(1_700_000_000_000 + i, null, new byte[] { (byte)i });
        }

        using PooledBufferWriter built = builder.Build();
        return built.WrittenSpan.ToArray();
    }

    [Fact]
    public void Creating_a_topic_creates_its_partitions_and_appends_move_the_high_watermark()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-append", 2, 1);
        Partition partition = manager.GetPartition(new TopicPartition("rm-append", 1))!;
        Assert.NotNull(manager.GetPartition(new TopicPartition("rm-append", 0)));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, manager.TryGetPartition(new TopicPartition("rm-append", 2), out _));
        Assert.Equal(1, partition.LeaderId);
        Assert.Equal(new[] { 1 }, partition.Isr);
        Assert.Equal(0, partition.LeaderEpoch);

        LogAppendInfo first = manager.AppendToLeader(partition, Batch(3), 1);
        LogAppendInfo second = manager.AppendToLeader(partition, Batch(2), -1);
        Assert.Equal(ErrorCode.None, first.Error);
        Assert.Equal(0, first.FirstOffset);
        Assert.Equal(3, second.FirstOffset);
        Assert.Equal(5, partition.LogEndOffset);
        Assert.Equal(partition.LogEndOffset, partition.HighWatermark);
        Assert.Equal(partition.HighWatermark, partition.LastStableOffset);
    }

    [Fact]
    public void Idempotent_retries_get_their_original_offsets_and_gaps_are_refused()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-idem", 1, 1);
        Partition partition = manager.GetPartition(new TopicPartition("rm-idem", 0))!;
        manager.AppendToLeader(partition, Batch(1), 1); // offset 0 from a plain producer

        LogAppendInfo a = manager.AppendToLeader(partition, Batch(2, 7, 0, 0), 1);
        LogAppendInfo b = manager.AppendToLeader(partition, Batch(2, 7, 0, 2), 1);
        LogAppendInfo retryA = manager.AppendToLeader(partition, Batch(2, 7, 0, 0), 1);
        LogAppendInfo gap = manager.AppendToLeader(partition, Batch(1, 7, 0, 9), 1);
        LogAppendInfo nextInOrder = manager.AppendToLeader(partition, Batch(1, 7, 0, 4), 1);
        LogAppendInfo bumped = manager.AppendToLeader(partition, Batch(1, 7, 1, 0), 1);
        LogAppendInfo fenced = manager.AppendToLeader(partition, Batch(1, 7, 0, 5), 1);

        Assert.Equal(1, a.FirstOffset);
        Assert.Equal(3, b.FirstOffset);
        Assert.True(retryA.IsDuplicate);
        Assert.Equal(1, retryA.FirstOffset);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        Assert.Equal(ErrorCode.None, nextInOrder.Error);
        Assert.Equal(ErrorCode.None, bumped.Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, fenced.Error);
        Assert.Equal(partition.LogEndOffset, partition.HighWatermark);
    }

    [Fact]
    public void Acks_all_needs_min_insync_replicas_in_the_isr()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-minisr", 1, 1, new Dictionary<string, string> { ["min.insync.replicas"] = "2" });
        Partition partition = manager.GetPartition(new TopicPartition("rm-minisr", 0))!;
        Assert.Equal(ErrorCode.NotEnoughReplicas, manager.AppendToLeader(partition, Batch(1), -1).Error);
        Assert.Equal(0, partition.LogEndOffset);
        Assert.Equal(ErrorCode.None, manager.AppendToLeader(partition, Batch(1), 1).Error);
    }

    [Fact]
    public async Task A_waiting_fetch_is_woken_by_an_append()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-wake", 1, 1);
        Partition partition = manager.GetPartition(new TopicPartition("rm-wake", 0))!;
        var fetch = new DelayedFetch(manager.NowMs + 30_000, new HighWatermarkAbove(partition, 0));
        Assert.False(manager.FetchPurgatory.TryCompleteElseWatch(fetch, [partition.TopicPartition]));
        manager.AppendToLeader(partition, Batch(1), 1);
        await fetch.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, manager.FetchPurgatory.Delayed);
    }

    [Fact]
    public async Task Acks_all_waits_complete_at_once_on_a_single_node()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-wait", 1, 1);
        var tp = new TopicPartition("rm-wait", 0);
        LogAppendInfo info = await manager.AppendAndWaitAsync(tp, Batch(4), 1000, CancellationToken.None);
        Assert.Equal(ErrorCode.None, info.Error);
        Assert.Equal(3, info.LastOffset);
        Assert.Null(await manager.WaitForHighWatermarkAsync([manager.GetPartition(tp)!], [4], 1000, CancellationToken.None));
    }

    [Fact]
    public void Deleting_and_growing_topics_follow_the_store()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-grow", 1, 1);
        manager.Metadata.CreatePartitions("rm-grow", 3);
        Assert.NotNull(manager.GetPartition(new TopicPartition("rm-grow", 2)));
        manager.Metadata.DeleteTopic("rm-grow");
        Assert.Null(manager.GetPartition(new TopicPartition("rm-grow", 0)));
        Assert.Null(manager.LogManager.GetLog(new TopicPartition("rm-grow", 0)));
    }

    [Fact]
    public void Config_changes_reach_the_logs()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-cfg", 1, 1);
        manager.Metadata.IncrementalAlterTopicConfigs("rm-cfg", new Dictionary<string, string?> { ["max.message.bytes"] = "2048" });
        Assert.Equal(2048, manager.GetPartition(new TopicPartition("rm-cfg", 0))!.Log.Config.MaxMessageBytes);
    }

    [Fact]
    public void A_restart_serves_the_same_data_with_the_same_epoch_and_topic_id()
    {
        ReplicaManager manager = Start();
        Guid id = manager.Metadata.CreateTopic("rm-restart", 1, 1).Topic!.TopicId;
        Partition partition = manager.GetPartition(new TopicPartition("rm-restart", 0))!;
        manager.AppendToLeader(partition, Batch(5), -1);

        manager = Start();
        Partition reloaded = manager.GetPartition(new TopicPartition("rm-restart", 0))!;
        Assert.Equal(id, reloaded.TopicId);
        Assert.Equal(5, reloaded.LogEndOffset);
        Assert.Equal(5, reloaded.HighWatermark);
        Assert.Equal(0, reloaded.LeaderEpoch);
        Assert.Equal((0, 5L), reloaded.Log.EndOffsetForEpoch(0));
    }

    [Fact]
    public void A_lagging_high_watermark_from_an_unclean_stop_catches_up_when_the_partition_is_created()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-hw", 1, 1);
        Partition partition = manager.GetPartition(new TopicPartition("rm-hw", 0))!;
        manager.AppendToLeader(partition, Batch(6), 1);
        partition.Log.UpdateHighWatermark(2); // as if the checkpoint was written before the last appends
        Assert.Equal(2, partition.Log.HighWatermark);

        var recreated = new Partition(partition.TopicPartition, partition.TopicId, partition.Log, 1);
        Assert.Equal(6, recreated.HighWatermark);
    }

    [Fact]
    public void Leader_epoch_checks_follow_KIP_320()
    {
        ReplicaManager manager = Start();
        manager.Metadata.CreateTopic("rm-epoch", 1, 1);
        Partition partition = manager.GetPartition(new TopicPartition("rm-epoch", 0))!;
        Assert.Equal(ErrorCode.None, partition.CheckLeaderEpoch(-1));
        Assert.Equal(ErrorCode.None, partition.CheckLeaderEpoch(0));
        Assert.Equal(ErrorCode.UnknownLeaderEpoch, partition.CheckLeaderEpoch(1));
        Assert.True(partition.MakeLeader(2, [1], [1]));
        Assert.Equal(ErrorCode.FencedLeaderEpoch, partition.CheckLeaderEpoch(1));
        Assert.False(partition.MakeLeader(1, [1], [1]));
        Assert.Equal(2, partition.LeaderEpoch);
    }

    private sealed class HighWatermarkAbove(Partition partition, long offset) : IDelayedFetchCondition
    {
        public bool IsSatisfied() => partition.HighWatermark > offset;
    }
}
