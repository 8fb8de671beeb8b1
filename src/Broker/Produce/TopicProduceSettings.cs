using System.Globalization;
using Broker.Config;
using Broker.Protocol.Compression;
using Broker.Replication.Metadata;

namespace Broker.Produce;

/// <summary>
/// The settings a produce to one topic is checked against: the topic's overrides, else the
/// broker's defaults (Kafka's topic config -> broker config synonyms: max.message.bytes ->
/// message.max.bytes, compression.type -> compression.type, message.timestamp.* ->
/// log.message.timestamp.*). Cached per topic metadata instance (a config change makes a new one).
/// </summary>
internal sealed record TopicProduceSettings(
    int MaxMessageBytes,
    bool Compacted,
    CompressionType? TargetCompression,
    long TimestampBeforeMaxMs,
    long TimestampAfterMaxMs,
    bool LogAppendTime)
{
    public static TopicProduceSettings For(TopicMetadata topic, BrokerConfig config)
    {
        int maxMessageBytes = topic.Configs.TryGetValue("max.message.bytes", out string? m)
            ? int.Parse(m, CultureInfo.InvariantCulture)
            : config.GetInt("message.max.bytes");
        string cleanup = topic.Configs.TryGetValue("cleanup.policy", out string? c) ? c : config.GetString("log.cleanup.policy") ?? "delete";
        string compression = topic.Configs.TryGetValue("compression.type", out string? t) ? t : config.GetString("compression.type") ?? "producer";
        long before = topic.Configs.TryGetValue("message.timestamp.before.max.ms", out string? b)
            ? long.Parse(b, CultureInfo.InvariantCulture)
            : ConfigLong(config, "log.message.timestamp.before.max.ms");
        long after = topic.Configs.TryGetValue("message.timestamp.after.max.ms", out string? a)
            ? long.Parse(a, CultureInfo.InvariantCulture)
            : ConfigLong(config, "log.message.timestamp.after.max.ms");
        string timestampType = topic.Configs.TryGetValue("message.timestamp.type", out string? tt) ? tt : config.GetString("log.message.timestamp.type") ?? "CreateTime";
        return new TopicProduceSettings(maxMessageBytes, cleanup.Contains("compact", StringComparison.Ordinal), ParseTarget(compression), before, after,
            string.Equals(timestampType, "LogAppendTime", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Null for "producer" (keep the batch's codec); "uncompressed" is None.</summary>
    internal static CompressionType? ParseTarget(string compression)
    {
        if (string.Equals(compression, "producer", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (string.Equals(compression, "uncompressed", StringComparison.OrdinalIgnoreCase))
        {
            return CompressionType.None;
        }

        return CompressionCodecs.TryParseName(compression.ToLowerInvariant(), out CompressionType type) ? type : null;
    }

    private static long ConfigLong(BrokerConfig config, string key)
    {
        try
        {
            return config.GetNullableLong(key) ?? long.MaxValue;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return long.MaxValue;
        }
    }
}
