// AlterConfigs (API key 33), versions 0-2 (legacy, deprecated by KIP-339 but still served by Kafka 4).
// Replace semantics: a TOPIC resource's overrides become exactly the given set (configs not listed
// fall back to their defaults); validated as a whole (INVALID_CONFIG). A BROKER resource's dynamic
// overrides become exactly the given set. validate_only checks and changes nothing.
// UNKNOWN_TOPIC_OR_PARTITION for an absent topic; other resource types -> INVALID_REQUEST.
using Broker.Admin;
using Broker.Config;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication.Metadata;

namespace Broker.Handlers;

public sealed class AlterConfigsHandler(TopicMetadataStore store, BrokerConfig config) : IApiHandler
{
    public short ApiKey => AlterConfigsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (AlterConfigsRequest)request;
        var response = new AlterConfigsResponse();
        foreach (AlterConfigsRequest.AlterConfigsResource resource in req.Resources)
        {
            (ErrorCode error, string? message) = Alter(resource, req.ValidateOnly);
            response.Responses.Add(new AlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorCode = (short)error,
                ErrorMessage = error == ErrorCode.None ? null : message,
            });
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private (ErrorCode, string?) Alter(AlterConfigsRequest.AlterConfigsResource resource, bool validateOnly)
    {
        switch (resource.ResourceType)
        {
            case ConfigResourceType.Topic:
            {
                var configs = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (AlterConfigsRequest.AlterableConfig c in resource.Configs)
                {
                    if (c.Value is null)
                    {
                        return (ErrorCode.InvalidConfig, $"Null value not supported for topic config {c.Name}");
                    }

                    configs[c.Name] = c.Value;
                }

                TopicOperationResult outcome = store.ReplaceTopicConfigs(resource.ResourceName, configs, validateOnly);
                return (outcome.Error, outcome.ErrorMessage);
            }

            case ConfigResourceType.Broker:
            {
                var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
                foreach (string key in config.DynamicValues.Keys)
                {
                    changes[key] = null;
                }

                foreach (AlterConfigsRequest.AlterableConfig c in resource.Configs)
                {
                    changes[c.Name] = c.Value;
                }

                return ConfigAlteration.AlterBroker(config, resource.ResourceName, changes, validateOnly);
            }

            default:
                return (ErrorCode.InvalidRequest, $"Unsupported resource type {resource.ResourceType}");
        }
    }
}
