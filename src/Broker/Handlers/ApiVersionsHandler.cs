// ApiVersions (api key 18), versions 0-4, flexible from v3.
// Behaviour: lists every API the broker serves with the version range its handler declares,
// computed once from the HandlerRegistry (so what is advertised is exactly what dispatch can
// serve). v3+ validates ClientSoftwareName/Version as Kafka does (KIP-511) and answers
// INVALID_REQUEST for bad ones. Supported and finalized features are empty and
// FinalizedFeaturesEpoch is -1: we implement no feature flags (KIP-584), which clients read as
// "no metadata.version", i.e. they rely on the API versions alone.
// A request with an unsupported ApiVersions version never reaches this handler: the network
// layer answers it with a v0 UNSUPPORTED_VERSION body carrying our ApiVersions range (KIP-511),
// see Network/ErrorResponses.cs.
using System.Text.RegularExpressions;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Handlers;

public sealed partial class ApiVersionsHandler(IServiceProvider services) : IApiHandler
{
    private List<ApiVersionsResponse.ApiVersion>? _apiKeys;

    public short ApiKey => ApiVersionsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var body = (ApiVersionsRequest)request;
        var response = new ApiVersionsResponse { ApiKeys = ApiKeys() };
        if (context.ApiVersion >= 3 && (!IsValidSoftwareField(body.ClientSoftwareName) || !IsValidSoftwareField(body.ClientSoftwareVersion)))
        {
            response.ErrorCode = (short)ErrorCode.InvalidRequest;
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    /// <summary>The advertised ranges, shared by all responses (Write only reads them).</summary>
    public List<ApiVersionsResponse.ApiVersion> ApiKeys()
    {
        // Resolved lazily: the registry is built from all handlers, this one included.
        if (_apiKeys is { } cached) return cached;
        var registry = services.GetRequiredService<HandlerRegistry>();
        var list = new List<ApiVersionsResponse.ApiVersion>(registry.All.Count);
        foreach (IApiHandler handler in registry.All)
        {
            list.Add(new ApiVersionsResponse.ApiVersion { ApiKey = handler.ApiKey, MinVersion = handler.MinVersion, MaxVersion = handler.MaxVersion });
        }

        _apiKeys = list;
        return list;
    }

    /// <summary>Kafka's ApiVersionsRequest.isValid: letters, digits, '-' and '.', starting and ending alphanumeric.</summary>
    public static bool IsValidSoftwareField(string? value) => value is not null && SoftwareField().IsMatch(value);

    [GeneratedRegex("^[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?$")]
    private static partial Regex SoftwareField();
}
