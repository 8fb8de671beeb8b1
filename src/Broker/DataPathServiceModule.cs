using Broker.Config;
using Broker.Fetch;
using Broker.Produce;
using Broker.Protocol.Records;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Storage;
using Broker.Storage.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker;

/// <summary>
/// Registers the data path: the LogManager (unless the storage area registered one), the topic
/// metadata store, the replica manager and its start/stop, fetch sessions and the producer id
/// manager. The data-path handlers (Metadata, Produce, Fetch, ListOffsets, InitProducerId,
/// OffsetForLeaderEpoch) get these by constructor injection.
/// </summary>
public sealed class DataPathServiceModule : IServiceModule
{
    public int Order => 200;

    public void Register(IServiceCollection services, BrokerConfig config)
    {
        services.TryAddSingleton(sp => new ClusterIdentity(config));
        services.TryAddSingleton(sp => new LogManager(
            ToLogManagerConfig(config, sp.GetRequiredService<ClusterIdentity>().ClusterId),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton(sp => new TopicMetadataStore(
            new TopicMetadataStoreOptions
            {
                MetadataDir = config.LogDirs[0],
                NodeId = config.NodeId,
                DefaultNumPartitions = config.GetInt("num.partitions"),
                DefaultReplicationFactor = config.GetShort("default.replication.factor"),
                ConfigValidator = sp.GetService<ITopicConfigValidator>() is { } validator ? validator.Validate : null,
            },
            sp.GetRequiredService<ILogger<TopicMetadataStore>>()));
        services.TryAddSingleton(sp => new ReplicaManager(
            sp.GetRequiredService<LogManager>(),
            sp.GetRequiredService<TopicMetadataStore>(),
            config.NodeId,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton(_ => new FetchSessionCache(config.GetInt("max.incremental.fetch.session.cache.slots")));
        services.TryAddSingleton(sp => new ProducerIdManager(sp.GetRequiredService<TopicMetadataStore>()));
        services.AddHostedService<ReplicaManagerLifecycle>();
    }

    /// <summary>Broker properties -> storage settings, Kafka's broker-level names for the topic defaults.</summary>
    public static LogManagerConfig ToLogManagerConfig(BrokerConfig config, string? clusterId)
    {
        var defaults = new LogConfig
        {
            SegmentBytes = config.GetInt("log.segment.bytes"),
            SegmentMs = config.LogRollMs,
            SegmentIndexBytes = config.GetInt("log.index.size.max.bytes"),
            IndexIntervalBytes = config.GetInt("log.index.interval.bytes"),
            RetentionMs = config.LogRetentionMs,
            RetentionBytes = config.GetLong("log.retention.bytes"),
            MessageTimestampType = string.Equals(config.GetString("log.message.timestamp.type"), "LogAppendTime", StringComparison.OrdinalIgnoreCase)
                ? TimestampType.LogAppendTime
                : TimestampType.CreateTime,
            CleanupPolicy = string.Join(',', config.GetList("log.cleanup.policy")),
            FlushMessages = config.GetLong("log.flush.interval.messages"),
            FlushMs = config.LogFlushIntervalMs,
            MinInSyncReplicas = config.GetInt("min.insync.replicas"),
            MaxMessageBytes = config.GetInt("message.max.bytes"),
            CompressionType = config.GetString("compression.type") ?? "producer",
            FileDeleteDelayMs = config.GetLong("log.segment.delete.delay.ms"),
            DeleteRetentionMs = config.GetLong("log.cleaner.delete.retention.ms"),
            MinCleanableDirtyRatio = config.GetDouble("log.cleaner.min.cleanable.ratio"),
        };
        return new LogManagerConfig
        {
            LogDirs = config.LogDirs,
            DefaultLogConfig = defaults,
            RetentionCheckIntervalMs = config.GetLong("log.retention.check.interval.ms"),
            FlushSchedulerIntervalMs = config.GetLong("log.flush.scheduler.interval.ms"),
            FlushOffsetCheckpointIntervalMs = config.GetLong("log.flush.offset.checkpoint.interval.ms"),
            ProducerIdExpirationMs = config.GetLong("producer.id.expiration.ms"),
            ProducerIdExpirationCheckIntervalMs = config.GetLong("producer.id.expiration.check.interval.ms"),
            OpenSegmentHandlesMax = config.GetInt("log.segment.open.handles.max"),
            CleanerEnable = config.GetBool("log.cleaner.enable"),
            CleanerBackoffMs = config.GetLong("log.cleaner.backoff.ms"),
            NodeId = config.NodeId,
            ClusterId = clusterId,
        };
    }
}

/// <summary>
/// The cluster id: cluster.id when configured, else the one in the first log dir's
/// meta.properties, else a new random one (Kafka's 22-character base64 UUID) that the LogManager
/// writes into meta.properties, so it survives restarts (Kafka's kafka-storage format step).
/// </summary>
public sealed class ClusterIdentity
{
    public ClusterIdentity(BrokerConfig config)
    {
        string? configured = config.GetString("cluster.id");
        if (!string.IsNullOrEmpty(configured))
        {
            ClusterId = configured;
            return;
        }

        MetaProperties? existing = null;
        try
        {
            existing = MetaProperties.Read(config.LogDirs[0]);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
        {
            // LogManager reports the bad file when it loads the dir.
        }

        ClusterId = !string.IsNullOrEmpty(existing?.ClusterId) ? existing!.ClusterId : NewClusterId();
    }

    public string ClusterId { get; }

    private static string NewClusterId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Starts the replica manager (metadata store, logs, partitions) before the coordinators and the network; stops it after them.</summary>
internal sealed class ReplicaManagerLifecycle(ReplicaManager replicaManager) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        replicaManager.Startup();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        replicaManager.Shutdown();
        return Task.CompletedTask;
    }
}
