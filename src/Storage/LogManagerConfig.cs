namespace Broker.Storage;

/// <summary>
/// Broker-level storage settings under Kafka's names (server.properties), with Kafka's defaults.
/// The broker builds it from its config; tests construct it directly.
/// </summary>
public sealed record LogManagerConfig
{
    /// <summary>log.dirs (or log.dir): one or more directories holding partition directories.</summary>
    public required IReadOnlyList<string> LogDirs { get; init; }

    /// <summary>Topic defaults (log.segment.bytes, log.retention.ms, ...) as a LogConfig.</summary>
    public LogConfig DefaultLogConfig { get; init; } = LogConfig.Default;

    /// <summary>log.retention.check.interval.ms.</summary>
    public long RetentionCheckIntervalMs { get; init; } = 300_000;

    /// <summary>log.flush.scheduler.interval.ms: how often flush.ms is checked (Kafka's default: never).</summary>
    public long FlushSchedulerIntervalMs { get; init; } = long.MaxValue;

    /// <summary>log.flush.offset.checkpoint.interval.ms (recovery points; also the high watermarks here).</summary>
    public long FlushOffsetCheckpointIntervalMs { get; init; } = 60_000;

    /// <summary>log.flush.start.offset.checkpoint.interval.ms.</summary>
    public long FlushStartOffsetCheckpointIntervalMs { get; init; } = 60_000;

    /// <summary>producer.id.expiration.ms.</summary>
    public long ProducerIdExpirationMs { get; init; } = 86_400_000;

    /// <summary>producer.id.expiration.check.interval.ms.</summary>
    public long ProducerIdExpirationCheckIntervalMs { get; init; } = 600_000;

    /// <summary>How often segments renamed *.deleted are checked for file.delete.delay.ms (Kafka schedules each one).</summary>
    public long DeleteCheckIntervalMs { get; init; } = 5_000;

    /// <summary>
    /// log.segment.open.handles.max (our extension): sealed segments whose .log file may stay open
    /// (and indexes loaded) at once across all partitions; active segments are not counted. Apache
    /// Kafka keeps every segment open and relies on the OS limit on open files instead.
    /// </summary>
    public int OpenSegmentHandlesMax { get; init; } = SegmentHandleCache.DefaultCapacity;

    /// <summary>log.cleaner.enable: run compaction for cleanup.policy=compact topics.</summary>
    public bool CleanerEnable { get; init; } = true;

    /// <summary>log.cleaner.backoff.ms: pause between the cleaner's passes over the logs.</summary>
    public long CleanerBackoffMs { get; init; } = 15_000;

    /// <summary>node.id written to / checked against meta.properties (-1: do not check).</summary>
    public int NodeId { get; init; } = -1;

    /// <summary>cluster.id written to / checked against meta.properties (null: do not check).</summary>
    public string? ClusterId { get; init; }
}
