using Broker.Config;
using Broker.Protocol;
using Broker.Replication.Metadata;

namespace Broker.Admin;

/// <summary>
/// Applies config changes for IncrementalAlterConfigs and AlterConfigs: topics through the metadata
/// store (whose TopicConfigChanged event re-configures the logs), brokers through
/// <see cref="BrokerConfig.SetDynamic"/> for keys Kafka marks dynamic.
/// </summary>
public static class ConfigAlteration
{
    // IncrementalAlterConfigs config_operation values (KIP-339).
    public const sbyte OpSet = 0;
    public const sbyte OpDelete = 1;
    public const sbyte OpAppend = 2;
    public const sbyte OpSubtract = 3;

    /// <summary>Resolves SET/DELETE/APPEND/SUBTRACT against the topic's current overrides into set/remove changes.</summary>
    public static (ErrorCode Error, string? Message) ResolveTopicOps(TopicMetadata topic, BrokerConfig config,
        IReadOnlyList<(string Name, sbyte Op, string? Value)> ops, Dictionary<string, string?> changes)
    {
        foreach ((string name, sbyte op, string? value) in ops)
        {
            TopicConfigDef? def = TopicConfigCatalogue.Find(name);
            if (def is null)
            {
                return (ErrorCode.InvalidConfig, $"Unknown topic config name: {name}");
            }

            switch (op)
            {
                case OpSet:
                    if (value is null)
                    {
                        return (ErrorCode.InvalidRequest, $"Null value not supported for SET of {name}");
                    }

                    changes[name] = value;
                    break;
                case OpDelete:
                    changes[name] = null;
                    break;
                case OpAppend:
                case OpSubtract:
                {
                    // Kafka allows APPEND/SUBTRACT only on LIST configs.
                    if (def.Type != ConfigType.List)
                    {
                        return (ErrorCode.InvalidConfig, $"Config {name} is not a list, so {(op == OpAppend ? "APPEND" : "SUBTRACT")} is not allowed");
                    }

                    string current = changes.TryGetValue(name, out string? pending) ? pending ?? def.Default(config)
                        : topic.Configs.TryGetValue(name, out string? ov) ? ov : def.Default(config);
                    var items = new List<string>(ConfigDef.SplitList(current));
                    foreach (string item in ConfigDef.SplitList(value ?? ""))
                    {
                        if (op == OpAppend)
                        {
                            if (!items.Contains(item))
                            {
                                items.Add(item);
                            }
                        }
                        else
                        {
                            items.Remove(item);
                        }
                    }

                    changes[name] = string.Join(',', items);
                    break;
                }
                default:
                    return (ErrorCode.InvalidRequest, $"Unknown config operation {op} for {name}");
            }
        }

        return (ErrorCode.None, null);
    }

    /// <summary>Dynamic broker config change for this node ("" or our node id); INVALID_CONFIG for unknown/static keys or bad values.</summary>
    public static (ErrorCode Error, string? Message) AlterBroker(BrokerConfig config, string resourceName, Dictionary<string, string?> changes, bool validateOnly)
    {
        if (resourceName.Length > 0 && resourceName != config.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return (ErrorCode.InvalidRequest, $"Unexpected broker id, expected {config.NodeId} or empty string, but received {resourceName}");
        }

        foreach (KeyValuePair<string, string?> change in changes)
        {
            ConfigDef? def = BrokerConfigCatalogue.Find(change.Key);
            if (def is null)
            {
                return (ErrorCode.InvalidConfig, $"Unknown broker config name: {change.Key}");
            }

            if (!def.IsDynamic)
            {
                return (ErrorCode.InvalidConfig, $"Cannot update these configs dynamically: {change.Key}");
            }
        }

        try
        {
            config.SetDynamic(changes, validateOnly);
        }
        catch (ConfigException e)
        {
            return (ErrorCode.InvalidConfig, e.Message);
        }

        return (ErrorCode.None, null);
    }
}
