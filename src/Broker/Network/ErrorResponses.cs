using Broker.Handlers;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Network;

/// <summary>Responses the network layer produces itself, without a handler.</summary>
internal static class ErrorResponses
{
    /// <summary>
    /// KIP-511: an ApiVersions request at a version we do not support gets a v0 response with
    /// UNSUPPORTED_VERSION and the ApiVersions entry (our range) so the client can retry lower,
    /// as Kafka's ApiVersionsRequest.getErrorResponse does.
    /// </summary>
    public static ApiVersionsResponse UnsupportedApiVersions(HandlerRegistry registry)
    {
        IApiHandler? handler = registry.Get(ApiVersionsRequest.ApiKey);
        var response = new ApiVersionsResponse { ErrorCode = (short)ErrorCode.UnsupportedVersion };
        response.ApiKeys.Add(new ApiVersionsResponse.ApiVersion
        {
            ApiKey = ApiVersionsRequest.ApiKey,
            MinVersion = handler?.MinVersion ?? 0,
            MaxVersion = handler?.MaxVersion ?? 0,
        });
        return response;
    }
}
