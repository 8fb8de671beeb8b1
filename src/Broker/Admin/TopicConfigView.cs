using Broker.Config;
using Broker.Replication.Metadata;

namespace Broker.Admin;

/// <summary>One effective topic config as DescribeConfigs / CreateTopics v5+ report it.</summary>
public readonly record struct TopicConfigEntry(string Name, string Value, bool IsDefault, ConfigValueSource Source, bool ReadOnly);

/// <summary>
/// A topic's effective configs: the override when the topic has one (source DYNAMIC_TOPIC_CONFIG),
/// otherwise the broker-level value (DYNAMIC_BROKER_CONFIG / STATIC_BROKER_CONFIG when the broker's
/// property is set, DEFAULT_CONFIG otherwise), as Kafka's ConfigHelper does.
/// </summary>
public static class TopicConfigView
{
    public static List<TopicConfigEntry> Describe(TopicMetadata topic, BrokerConfig config)
    {
        var entries = new List<TopicConfigEntry>(TopicConfigCatalogue.All.Count);
        foreach (TopicConfigDef def in TopicConfigCatalogue.All)
        {
            if (topic.Configs.TryGetValue(def.Name, out string? overridden))
            {
                entries.Add(new TopicConfigEntry(def.Name, overridden, false, ConfigValueSource.DynamicTopic, false));
            }
            else
            {
                ConfigValueSource source = config.SourceOf(def.BrokerKey);
                entries.Add(new TopicConfigEntry(def.Name, def.Default(config), source == ConfigValueSource.Default, source, false));
            }
        }

        return entries;
    }
}
