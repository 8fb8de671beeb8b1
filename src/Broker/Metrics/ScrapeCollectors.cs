using System.Globalization;
using Broker.Coordinator.Group;
using Broker.Network;
using Broker.Replication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Broker.Metrics;

/// <summary>
/// Gauges computed when Prometheus scrapes, never on the append path: per partition the log
/// end offset, high watermark, log start offset, size and segment count (Kafka
/// <c>kafka.log:type=Log</c> LogEndOffset, LogStartOffset, Size, NumLogSegments; the high
/// watermark is ours, Kafka has no gauge for it), the partition and under-replicated partition
/// counts (Kafka ReplicaManager PartitionCount, UnderReplicatedPartitions), the open connection
/// count, and per consumer group/topic/partition the committed offset and the lag behind the high
/// watermark (what Burrow or kafka-exporter compute from outside; here the group coordinator
/// computes it in place from its committed offsets).
/// Series of partitions, groups or offsets that disappeared since the last scrape are removed.
/// Scrapes are serialised, so two concurrent scrapes never interleave their updates.
/// </summary>
public sealed class ScrapeCollectors
{
    private static readonly TimeSpan GroupLagTimeout = TimeSpan.FromSeconds(5);

    private readonly ReplicaManager _replicaManager;
    private readonly BrokerMetrics _metrics;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _scrapeLock = new(1, 1);
    private readonly Gauge _logEndOffset;
    private readonly Gauge _logStartOffset;
    private readonly Gauge _highWatermark;
    private readonly Gauge _sizeBytes;
    private readonly Gauge _segments;
    private readonly Gauge _partitionCount;
    private readonly Gauge _underReplicated;
    private readonly Gauge _connections;
    private readonly Gauge _committedOffset;
    private readonly Gauge _lag;

    public ScrapeCollectors(BrokerMetrics metrics, ReplicaManager replicaManager, IServiceProvider services, ILogger<ScrapeCollectors> logger)
    {
        _metrics = metrics;
        _replicaManager = replicaManager;
        _services = services;
        _logger = logger;
        IMetricFactory factory = metrics.Factory;
        string[] partitionLabels = ["topic", "partition"];
        _logEndOffset = factory.CreateGauge("kafka_log_log_end_offset", "Offset the next appended record gets (Kafka Log LogEndOffset).", partitionLabels);
        _logStartOffset = factory.CreateGauge("kafka_log_log_start_offset", "First offset a consumer may fetch (Kafka Log LogStartOffset).", partitionLabels);
        _highWatermark = factory.CreateGauge("kafka_log_high_watermark", "Offset below which records are committed and visible to consumers.", partitionLabels);
        _sizeBytes = factory.CreateGauge("kafka_log_size_bytes", "Bytes in the partition's log segments (Kafka Log Size).", partitionLabels);
        _segments = factory.CreateGauge("kafka_log_num_log_segments", "Log segments of the partition (Kafka Log NumLogSegments).", partitionLabels);
        _partitionCount = factory.CreateGauge("kafka_server_replica_manager_partition_count", "Partitions hosted by this broker (Kafka ReplicaManager PartitionCount).");
        _underReplicated = factory.CreateGauge("kafka_server_replica_manager_under_replicated_partitions",
            "Partitions whose ISR is smaller than their replica set (Kafka ReplicaManager UnderReplicatedPartitions).");
        _connections = factory.CreateGauge("kafka_network_connection_count", "Open client connections, all listeners (Kafka socket-server-metrics connection-count).");
        string[] groupLabels = ["group", "topic", "partition"];
        _committedOffset = factory.CreateGauge("kafka_consumergroup_committed_offset", "Offset committed by the consumer group.", groupLabels);
        _lag = factory.CreateGauge("kafka_consumergroup_lag", "High watermark minus the group's committed offset, floored at 0.", groupLabels);
        metrics.Registry.AddBeforeCollectCallback(CollectAsync);
    }

    private async Task CollectAsync(CancellationToken cancellationToken)
    {
        await _scrapeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            CollectPartitions();
            _metrics.Topics.RemoveDeletedTopics(_replicaManager.Metadata);
            _connections.Set(_services.GetService<KafkaServer>()?.ConnectionCount ?? 0);
            await CollectGroupLagAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A failing collector must not fail the scrape of everything else.
            _logger.LogWarning(e, "Collecting metrics failed");
        }
        finally
        {
            _scrapeLock.Release();
        }
    }

    private void CollectPartitions()
    {
        var seen = new HashSet<(string, string)>();
        int partitions = 0;
        int underReplicated = 0;
        foreach (Partition partition in _replicaManager.Partitions)
        {
            string topic = partition.TopicPartition.Topic;
            string index = partition.TopicPartition.Partition.ToString(CultureInfo.InvariantCulture);
            seen.Add((topic, index));
            partitions++;
            if (partition.Isr.Count < partition.Replicas.Count)
            {
                underReplicated++;
            }

            _logEndOffset.WithLabels(topic, index).Set(partition.LogEndOffset);
            _logStartOffset.WithLabels(topic, index).Set(partition.LogStartOffset);
            _highWatermark.WithLabels(topic, index).Set(partition.HighWatermark);
            _sizeBytes.WithLabels(topic, index).Set(partition.Log.SizeInBytes);
            _segments.WithLabels(topic, index).Set(partition.Log.SegmentCount);
        }

        _partitionCount.Set(partitions);
        _underReplicated.Set(underReplicated);
        RemoveStale(_logEndOffset, seen);
        RemoveStale(_logStartOffset, seen);
        RemoveStale(_highWatermark, seen);
        RemoveStale(_sizeBytes, seen);
        RemoveStale(_segments, seen);
    }

    private async Task CollectGroupLagAsync(CancellationToken cancellationToken)
    {
        GroupCoordinator? coordinator = _services.GetService<GroupCoordinator>();
        if (coordinator is null)
        {
            return;
        }

        IReadOnlyList<GroupPartitionLag> lags = await coordinator.GetLagAsync().WaitAsync(GroupLagTimeout, cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<(string, string, string)>();
        foreach (GroupPartitionLag lag in lags)
        {
            string index = lag.Partition.ToString(CultureInfo.InvariantCulture);
            seen.Add((lag.GroupId, lag.Topic, index));
            _committedOffset.WithLabels(lag.GroupId, lag.Topic, index).Set(lag.CommittedOffset);
            _lag.WithLabels(lag.GroupId, lag.Topic, index).Set(lag.Lag);
        }

        RemoveStale(_committedOffset, seen);
        RemoveStale(_lag, seen);
    }

    private static void RemoveStale(Gauge gauge, HashSet<(string, string)> seen)
    {
        foreach (string[] labels in new List<string[]>(gauge.GetAllLabelValues()))
        {
            if (!seen.Contains((labels[0], labels[1])))
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }

    private static void RemoveStale(Gauge gauge, HashSet<(string, string, string)> seen)
    {
        foreach (string[] labels in new List<string[]>(gauge.GetAllLabelValues()))
        {
            if (!seen.Contains((labels[0], labels[1], labels[2])))
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }
}
