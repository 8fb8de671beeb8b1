using System.Globalization;
using Broker.Config;
using Broker.Protocol;
using Broker.Replication.Metadata;

namespace Broker.Admin;

/// <summary>One topic-level config: Kafka's name, how to parse/check a value, and its default
/// (the broker-level setting it falls back to, as in Kafka's LogConfig / ServerTopicConfigSynonyms).</summary>
/// <param name="BrokerKey">The broker property the default comes from: when it is set (statically or
/// dynamically) DescribeConfigs reports that source instead of DEFAULT_CONFIG.</param>
public sealed record TopicConfigDef(string Name, ConfigType Type, string BrokerKey, Func<BrokerConfig, string> Default, Func<string, string?> Check);

/// <summary>
/// The topic configs this broker understands (the ones LogConfig applies plus the few clients read
/// back), with their broker-level defaults. Used by DescribeConfigs and to validate CreateTopics /
/// AlterConfigs values: Kafka rejects unknown topic config names with INVALID_CONFIG
/// (LogConfig.validateNames) and bad values with INVALID_CONFIG (ConfigDef parse / validators).
/// </summary>
public static class TopicConfigCatalogue
{
    public static IReadOnlyList<TopicConfigDef> All { get; } = Build();

    private static readonly Dictionary<string, TopicConfigDef> ByName = BuildIndex();

    public static TopicConfigDef? Find(string name) => ByName.TryGetValue(name, out TopicConfigDef? def) ? def : null;

    /// <summary>None, or INVALID_CONFIG with a message naming the key and value.</summary>
    public static (ErrorCode Error, string? Message) Validate(IReadOnlyDictionary<string, string> configs)
    {
        foreach (KeyValuePair<string, string> entry in configs)
        {
            TopicConfigDef? def = Find(entry.Key);
            if (def is null)
            {
                return (ErrorCode.InvalidConfig, $"Unknown topic config name: {entry.Key}");
            }

            if (entry.Value is null)
            {
                return (ErrorCode.InvalidConfig, $"Null value not supported for topic config {entry.Key}");
            }

            string? problem = def.Check(entry.Value);
            if (problem is not null)
            {
                return (ErrorCode.InvalidConfig, $"Invalid value {entry.Value} for configuration {entry.Key}: {problem}");
            }
        }

        return (ErrorCode.None, null);
    }

    private static Dictionary<string, TopicConfigDef> BuildIndex()
    {
        var index = new Dictionary<string, TopicConfigDef>(StringComparer.Ordinal);
        foreach (TopicConfigDef def in All)
        {
            index[def.Name] = def;
        }

        return index;
    }

    private static List<TopicConfigDef> Build()
    {
        static string S(BrokerConfig c, string key) => c.GetString(key) ?? "";
        return
        [
            new("cleanup.policy", ConfigType.List, "log.cleanup.policy", c => string.Join(',', c.GetList("log.cleanup.policy")), ListIn("delete", "compact")),
            new("compression.type", ConfigType.String, "compression.type", c => S(c, "compression.type"), In("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
            new("delete.retention.ms", ConfigType.Long, "log.cleaner.delete.retention.ms", c => S(c, "log.cleaner.delete.retention.ms"), LongAtLeast(0)),
            new("file.delete.delay.ms", ConfigType.Long, "log.segment.delete.delay.ms", c => S(c, "log.segment.delete.delay.ms"), LongAtLeast(0)),
            new("flush.messages", ConfigType.Long, "log.flush.interval.messages", c => S(c, "log.flush.interval.messages"), LongAtLeast(1)),
            new("flush.ms", ConfigType.Long, "log.flush.interval.ms", c => c.LogFlushIntervalMs.ToString(CultureInfo.InvariantCulture), LongAtLeast(0)),
            new("index.interval.bytes", ConfigType.Int, "log.index.interval.bytes", c => S(c, "log.index.interval.bytes"), IntAtLeast(0)),
            new("max.message.bytes", ConfigType.Int, "message.max.bytes", c => S(c, "message.max.bytes"), IntAtLeast(0)),
            new("message.timestamp.after.max.ms", ConfigType.Long, "log.message.timestamp.after.max.ms", c => S(c, "log.message.timestamp.after.max.ms"), LongAtLeast(0)),
            new("message.timestamp.before.max.ms", ConfigType.Long, "log.message.timestamp.before.max.ms", c => S(c, "log.message.timestamp.before.max.ms"), LongAtLeast(0)),
            new("message.timestamp.type", ConfigType.String, "log.message.timestamp.type", c => S(c, "log.message.timestamp.type"), In("CreateTime", "LogAppendTime")),
            new("min.cleanable.dirty.ratio", ConfigType.Double, "log.cleaner.min.cleanable.ratio", c => c.GetDouble("log.cleaner.min.cleanable.ratio").ToString(CultureInfo.InvariantCulture),
                v => double.TryParse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d >= 0 && d <= 1 ? null : "Value must be between 0 and 1"),
            new("min.insync.replicas", ConfigType.Int, "min.insync.replicas", c => S(c, "min.insync.replicas"), IntAtLeast(1)),
            new("retention.bytes", ConfigType.Long, "log.retention.bytes", c => S(c, "log.retention.bytes"), LongAtLeast(-1)),
            new("retention.ms", ConfigType.Long, "log.retention.ms", c => c.LogRetentionMs.ToString(CultureInfo.InvariantCulture), LongAtLeast(-1)),
            new("segment.bytes", ConfigType.Int, "log.segment.bytes", c => S(c, "log.segment.bytes"), IntAtLeast(14)),
            new("segment.index.bytes", ConfigType.Int, "log.index.size.max.bytes", c => S(c, "log.index.size.max.bytes"), IntAtLeast(4)),
            new("segment.ms", ConfigType.Long, "log.roll.ms", c => c.LogRollMs.ToString(CultureInfo.InvariantCulture), LongAtLeast(1)),
        ];
    }

    private static Func<string, string?> IntAtLeast(int min) => v =>
        !int.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? "Not a number of type INT"
        : n < min ? $"Value must be at least {min}" : null;

    private static Func<string, string?> LongAtLeast(long min) => v =>
        !long.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? "Not a number of type LONG"
        : n < min ? $"Value must be at least {min}" : null;

    private static Func<string, string?> In(params string[] allowed) => v =>
        Array.IndexOf(allowed, v.Trim()) >= 0 ? null : $"String must be one of: {string.Join(", ", allowed)}";

    private static Func<string, string?> ListIn(params string[] allowed) => v =>
    {
        foreach (string item in v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (Array.IndexOf(allowed, item) < 0)
            {
                return $"Invalid value {item}; must be one of: {string.Join(", ", allowed)}";
            }
        }

        return null;
    };
}

/// <summary>The metadata store's config validator (contracts: ITopicConfigValidator), backed by <see cref="TopicConfigCatalogue"/>.</summary>
public sealed class CatalogueTopicConfigValidator : ITopicConfigValidator
{
    public (ErrorCode Error, string? Message) Validate(IReadOnlyDictionary<string, string> configs) => TopicConfigCatalogue.Validate(configs);
}

/// <summary>Registers the topic config validator so CreateTopics/AlterConfigs reject unknown names and bad values.</summary>
public sealed class AdminServiceModule : IServiceModule
{
    // Before DataPathServiceModule resolves the store (resolution is lazy anyway, order only for clarity).
    public int Order => 150;

    public void Register(Microsoft.Extensions.DependencyInjection.IServiceCollection services, BrokerConfig config) =>
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton<ITopicConfigValidator, CatalogueTopicConfigValidator>(services);
}
