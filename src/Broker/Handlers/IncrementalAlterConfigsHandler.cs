// IncrementalAlterConfigs (API key 44), versions 0-1 (KIP-339).
// TOPIC resources: SET / DELETE / APPEND / SUBTRACT (APPEND/SUBTRACT on list configs only) resolved
// against the current overrides, validated as a whole by the metadata store (INVALID_CONFIG for
// unknown names or bad values), then applied; the store's TopicConfigChanged event re-configures
// the topic's logs. UNKNOWN_TOPIC_OR_PARTITION for an absent topic. BROKER resources ("" or this
// node id): SET/DELETE of dynamic broker properties via BrokerConfig.SetDynamic; a static property
// -> INVALID_CONFIG. validate_only checks and changes nothing. A resource listed twice ->
// INVALID_REQUEST, as in Kafka.
// Differences from Kafka: BROKER_LOGGER and client-quota style resources answer INVALID_REQUEST.
using Broker.Admin;
using Broker.Config;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication.Metadata;

namespace Broker.Handlers;

public sealed class IncrementalAlterConfigsHandler(TopicMetadataStore store, BrokerConfig config) : IApiHandler
{
    public short ApiKey => IncrementalAlterConfigsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 1;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (IncrementalAlterConfigsRequest)request;
        var response = new IncrementalAlterConfigsResponse();
        var seen = new Dictionary<(sbyte, string), int>();
        foreach (IncrementalAlterConfigsRequest.AlterConfigsResource r in req.Resources)
        {
            seen[(r.ResourceType, r.ResourceName)] = seen.GetValueOrDefault((r.ResourceType, r.ResourceName)) + 1;
        }

        foreach (IncrementalAlterConfigsRequest.AlterConfigsResource resource in req.Resources)
        {
            (ErrorCode error, string? message) = seen[(resource.ResourceType, resource.ResourceName)] > 1
                ? (ErrorCode.InvalidRequest, "Duplicate resource in request.")
                : Alter(resource, req.ValidateOnly);
            response.Responses.Add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorCode = (short)error,
                ErrorMessage = error == ErrorCode.None ? null : message,
            });
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private (ErrorCode, string?) Alter(IncrementalAlterConfigsRequest.AlterConfigsResource resource, bool validateOnly)
    {
        var ops = new List<(string, sbyte, string?)>(resource.Configs.Count);
        foreach (IncrementalAlterConfigsRequest.AlterableConfig c in resource.Configs)
        {
            ops.Add((c.Name, c.ConfigOperation, c.Value));
        }

        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        switch (resource.ResourceType)
        {
            case ConfigResourceType.Topic:
            {
                TopicMetadata? topic = store.GetTopic(resource.ResourceName);
                if (topic is null)
                {
                    return (ErrorCode.UnknownTopicOrPartition, $"Topic '{resource.ResourceName}' does not exist.");
                }

                (ErrorCode error, string? message) = ConfigAlteration.ResolveTopicOps(topic, config, ops, changes);
                if (error != ErrorCode.None)
                {
                    return (error, message);
                }

                TopicOperationResult outcome = store.IncrementalAlterTopicConfigs(resource.ResourceName, changes, validateOnly);
                return (outcome.Error, outcome.ErrorMessage);
            }

            case ConfigResourceType.Broker:
                foreach ((string name, sbyte op, string? value) in ops)
                {
                    if (op == ConfigAlteration.OpSet)
                    {
                        changes[name] = value;
                    }
                    else if (op == ConfigAlteration.OpDelete)
                    {
                        changes[name] = null;
                    }
                    else
                    {
                        return (ErrorCode.InvalidConfig, $"Only SET and DELETE are supported for broker config {name}");
                    }
                }

                return ConfigAlteration.AlterBroker(config, resource.ResourceName, changes, validateOnly);
            default:
                return (ErrorCode.InvalidRequest, $"Unsupported resource type {resource.ResourceType}");
        }
    }
}
