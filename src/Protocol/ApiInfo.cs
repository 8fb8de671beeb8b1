using Broker.Protocol.Messages;

namespace Broker.Protocol;

/// <summary>
/// What the specs say about one API key (the table is generated in <see cref="ApiMessages"/>).
/// Header versions follow Kafka's ApiKeys.requestHeaderVersion/responseHeaderVersion: flexible
/// APIs use request header v2 and response header v1; ApiVersions responses always use header
/// v0 so that a client that sent an unsupported version can still parse the error (KIP-511).
/// </summary>
public sealed class ApiInfo(
    short apiKey,
    string name,
    short lowestSupportedVersion,
    short highestSupportedVersion,
    short lowestFlexibleVersion,
    Func<IRequest> createRequest,
    Func<IResponse> createResponse)
{
    public short ApiKey { get; } = apiKey;
    public string Name { get; } = name;
    public short LowestSupportedVersion { get; } = lowestSupportedVersion;
    public short HighestSupportedVersion { get; } = highestSupportedVersion;
    /// <summary>short.MaxValue when the API has no flexible versions.</summary>
    public short LowestFlexibleVersion { get; } = lowestFlexibleVersion;
    public Func<IRequest> CreateRequest { get; } = createRequest;
    public Func<IResponse> CreateResponse { get; } = createResponse;

    public bool IsSupported(short version) => version >= LowestSupportedVersion && version <= HighestSupportedVersion;

    public bool IsFlexible(short version) => version >= LowestFlexibleVersion;

    public short RequestHeaderVersion(short version) => IsFlexible(version) ? (short)2 : (short)1;

    public short ResponseHeaderVersion(short version) =>
        ApiKey == ApiVersionsRequest.ApiKey ? (short)0 : IsFlexible(version) ? (short)1 : (short)0;
}
