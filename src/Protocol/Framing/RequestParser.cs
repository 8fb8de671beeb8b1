using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Framing;

/// <summary>Outcome of parsing one request frame.</summary>
public enum RequestParseStatus
{
    Ok,
    /// <summary>Header truncated or invalid: close the connection (Kafka: InvalidRequestException).</summary>
    MalformedHeader,
    /// <summary>No spec for the api key: Kafka closes the connection.</summary>
    UnknownApiKey,
    /// <summary>
    /// Version outside the spec's range. For ApiVersions answer UNSUPPORTED_VERSION in a v0 response
    /// (KIP-511) so the client can retry lower; for other APIs Kafka closes the connection.
    /// </summary>
    UnsupportedVersion,
    /// <summary>Body truncated or invalid: close the connection.</summary>
    MalformedBody,
}

/// <summary>
/// Parses a whole request frame (without its size prefix): header, then body by api key and
/// version. The body's records are slices of <c>frame</c>, which must outlive the request.
/// </summary>
public static class RequestParser
{
    public static RequestParseStatus Parse(ReadOnlyMemory<byte> frame, RequestHeader header, out short headerVersion, out IRequest? request) =>
        Parse(frame, header, clientIds: null, out headerVersion, out request);

    /// <summary>As above, reusing the connection's last client id string (<see cref="ClientIdCache"/>).</summary>
    public static RequestParseStatus Parse(ReadOnlyMemory<byte> frame, RequestHeader header, ClientIdCache? clientIds,
        out short headerVersion, out IRequest? request)
    {
        request = null;
        var reader = new KafkaReader(frame);
        if (!RequestHeaderCodec.TryRead(ref reader, header, clientIds, out headerVersion)) return RequestParseStatus.MalformedHeader;
        ApiInfo? api = ApiMessages.Get(header.RequestApiKey);
        if (api is null) return RequestParseStatus.UnknownApiKey;
        if (!api.IsSupported(header.RequestApiVersion)) return RequestParseStatus.UnsupportedVersion;
        IRequest body = api.CreateRequest();
        body.Read(ref reader, header.RequestApiVersion);
        // Bytes left after the body are ignored, as Kafka's AbstractRequest.parseRequest does.
        if (reader.Failed) return RequestParseStatus.MalformedBody;
        request = body;
        return RequestParseStatus.Ok;
    }
}
