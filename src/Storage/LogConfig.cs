using System.Globalization;
using Broker.Protocol.Records;

namespace Broker.Storage;

/// <summary>
/// Per-topic log settings under Kafka's topic config names, with Kafka's defaults
/// (<c>LogConfig</c> / <c>TopicConfig</c> in Apache Kafka). Immutable: a config change makes a new
/// instance which the owner hands to <see cref="PartitionLog.UpdateConfig"/>.
/// </summary>
public sealed record LogConfig
{
    public static readonly LogConfig Default = new();

    /// <summary>segment.bytes: roll the active segment when it would exceed this size.</summary>
    public int SegmentBytes { get; init; } = 1024 * 1024 * 1024;

    /// <summary>segment.ms: roll the active segment when it is older than this (7 days).</summary>
    public long SegmentMs { get; init; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary>segment.index.bytes: preallocated size of each offset and time index.</summary>
    public int SegmentIndexBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>index.interval.bytes: bytes appended between two sparse index entries.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>retention.ms: delete segments whose newest timestamp is older (-1 = forever).</summary>
    public long RetentionMs { get; init; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary>retention.bytes: delete the oldest segments while the log is larger (-1 = no limit).</summary>
    public long RetentionBytes { get; init; } = -1;

    /// <summary>message.timestamp.type: CreateTime or LogAppendTime.</summary>
    public TimestampType MessageTimestampType { get; init; } = TimestampType.CreateTime;

    /// <summary>cleanup.policy: "delete", "compact" or "compact,delete".</summary>
    public string CleanupPolicy { get; init; } = "delete";

    /// <summary>flush.messages: fsync after this many messages (Kafka's default: never, leave it to the OS).</summary>
    public long FlushMessages { get; init; } = long.MaxValue;

    /// <summary>flush.ms: fsync when the last flush is older than this.</summary>
    public long FlushMs { get; init; } = long.MaxValue;

    /// <summary>min.insync.replicas (used by the replication layer; stored here as in Kafka).</summary>
    public int MinInSyncReplicas { get; init; } = 1;

    /// <summary>max.message.bytes: largest record batch accepted (1 MiB + 12 bytes of log overhead).</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024 + 12;

    /// <summary>compression.type: "producer", "uncompressed", "gzip", "snappy", "lz4", "zstd".</summary>
    public string CompressionType { get; init; } = "producer";

    /// <summary>file.delete.delay.ms: how long a deleted segment's files stay (renamed .deleted) for in-flight reads.</summary>
    public long FileDeleteDelayMs { get; init; } = 60_000;

    /// <summary>delete.retention.ms: how long tombstones stay in a compacted log (1 day).</summary>
    public long DeleteRetentionMs { get; init; } = 24L * 60 * 60 * 1000;

    /// <summary>min.cleanable.dirty.ratio: the dirty share of the cleanable log that triggers compaction.</summary>
    public double MinCleanableDirtyRatio { get; init; } = 0.5;

    public bool Compact => CleanupPolicy.Contains("compact", StringComparison.Ordinal);

    public bool Delete => CleanupPolicy.Contains("delete", StringComparison.Ordinal);

    /// <summary>
    /// Applies topic config overrides by Kafka name (unknown names are ignored; the broker's config
    /// layer validates them). Throws FormatException on a malformed number.
    /// </summary>
    public LogConfig With(IEnumerable<KeyValuePair<string, string?>> overrides)
    {
        LogConfig config = this;
        foreach (KeyValuePair<string, string?> entry in overrides)
        {
            if (entry.Value is null)
            {
                continue;
            }

            string v = entry.Value;
            config = entry.Key switch
            {
                "segment.bytes" => config with { SegmentBytes = ParseInt(v) },
                "segment.ms" => config with { SegmentMs = ParseLong(v) },
                "segment.index.bytes" => config with { SegmentIndexBytes = ParseInt(v) },
                "index.interval.bytes" => config with { IndexIntervalBytes = ParseInt(v) },
                "retention.ms" => config with { RetentionMs = ParseLong(v) },
                "retention.bytes" => config with { RetentionBytes = ParseLong(v) },
                "message.timestamp.type" => config with
                {
                    MessageTimestampType = string.Equals(v, "LogAppendTime", StringComparison.OrdinalIgnoreCase)
                        ? TimestampType.LogAppendTime
                        : TimestampType.CreateTime,
                },
                "cleanup.policy" => config with { CleanupPolicy = v },
                "flush.messages" => config with { FlushMessages = ParseLong(v) },
                "flush.ms" => config with { FlushMs = ParseLong(v) },
                "min.insync.replicas" => config with { MinInSyncReplicas = ParseInt(v) },
                "max.message.bytes" => config with { MaxMessageBytes = ParseInt(v) },
                "compression.type" => config with { CompressionType = v },
                "file.delete.delay.ms" => config with { FileDeleteDelayMs = ParseLong(v) },
                "delete.retention.ms" => config with { DeleteRetentionMs = ParseLong(v) },
                "min.cleanable.dirty.ratio" => config with { MinCleanableDirtyRatio = double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture) },
                _ => config,
            };
        }

        return config;
    }

    private static int ParseInt(string value) => int.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static long ParseLong(string value) => long.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
