// DescribeConfigs (API key 32), versions 1-4.
// TOPIC resources: every topic config this broker knows (or only the requested keys), value = the
// topic's override (DYNAMIC_TOPIC_CONFIG) or the broker-level default (DEFAULT_CONFIG);
// UNKNOWN_TOPIC_OR_PARTITION for an absent topic. BROKER resources: every broker property in the
// catalogue for this node id ("" = cluster default, also answered from this node), sources
// DYNAMIC_BROKER_CONFIG / STATIC_BROKER_CONFIG / DEFAULT_CONFIG; passwords are sensitive with a
// null value. Another node id -> INVALID_REQUEST. v1+ synonyms when asked (the value's own source
// only), v3+ config_type and documentation when asked (KIP-569).
// Differences from Kafka: version 0 is not offered (KIP-896); BROKER_LOGGER resources answer
// INVALID_REQUEST (no dynamic log levels); topic synonyms do not list the broker-level name.
using Broker.Admin;
using Broker.Config;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication.Metadata;

namespace Broker.Handlers;

public sealed class DescribeConfigsHandler(TopicMetadataStore store, BrokerConfig config) : IApiHandler
{
    public short ApiKey => DescribeConfigsRequest.ApiKey;
    public short MinVersion => 1;
    public short MaxVersion => 4;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (DescribeConfigsRequest)request;
        var response = new DescribeConfigsResponse();
        foreach (DescribeConfigsRequest.DescribeConfigsResource resource in req.Resources)
        {
            var result = new DescribeConfigsResponse.DescribeConfigsResult
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorMessage = null,
            };
            response.Results.Add(result);
            HashSet<string>? keys = resource.ConfigurationKeys is { } requested ? new HashSet<string>(requested, StringComparer.Ordinal) : null;
            switch (resource.ResourceType)
            {
                case ConfigResourceType.Topic:
                    DescribeTopic(resource.ResourceName, keys, req, result);
                    break;
                case ConfigResourceType.Broker:
                    DescribeBroker(resource.ResourceName, keys, req, result);
                    break;
                default:
                    result.ErrorCode = (short)ErrorCode.InvalidRequest;
                    result.ErrorMessage = $"Unsupported resource type {resource.ResourceType}";
                    break;
            }
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private void DescribeTopic(string name, HashSet<string>? keys, DescribeConfigsRequest req, DescribeConfigsResponse.DescribeConfigsResult result)
    {
        TopicMetadata? topic = store.GetTopic(name);
        if (topic is null)
        {
            result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
            result.ErrorMessage = $"Topic '{name}' does not exist.";
            return;
        }

        foreach (TopicConfigEntry entry in TopicConfigView.Describe(topic, config))
        {
            if (keys is not null && !keys.Contains(entry.Name))
            {
                continue;
            }

            TopicConfigDef def = TopicConfigCatalogue.Find(entry.Name)!;
            result.Configs.Add(Entry(entry.Name, entry.Value, entry.Source, false, def.Type, null, req));
        }
    }

    private void DescribeBroker(string name, HashSet<string>? keys, DescribeConfigsRequest req, DescribeConfigsResponse.DescribeConfigsResult result)
    {
        if (name.Length > 0 && name != config.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            result.ErrorCode = (short)ErrorCode.InvalidRequest;
            result.ErrorMessage = $"Unexpected broker id, expected {config.NodeId} or empty string, but received {name}";
            return;
        }

        foreach (ConfigDef def in BrokerConfigCatalogue.All.Values)
        {
            if (keys is not null && !keys.Contains(def.Name))
            {
                continue;
            }

            ConfigValueSource source = config.SourceOf(def.Name);
            string? value = def.IsSensitive ? null : config.GetString(def.Name);
            result.Configs.Add(Entry(def.Name, value, source, !def.IsDynamic, def.Type, def.Documentation, req));
        }
    }

    private static DescribeConfigsResponse.DescribeConfigsResourceResult Entry(string name, string? value, ConfigValueSource source,
        bool readOnly, ConfigType type, string? documentation, DescribeConfigsRequest req)
    {
        var entry = new DescribeConfigsResponse.DescribeConfigsResourceResult
        {
            Name = name,
            Value = value,
            ReadOnly = readOnly,
            // is_default is a v0-only field (v0 is not offered); v1+ clients derive it from config_source.
            ConfigSource = (sbyte)source,
            IsSensitive = type == ConfigType.Password,
            ConfigType = ConfigResourceType.WireType(type),
            Documentation = req.IncludeDocumentation ? documentation : null,
        };
        if (req.IncludeSynonyms)
        {
            entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = name, Value = value, Source = (sbyte)source });
        }

        return entry;
    }
}
