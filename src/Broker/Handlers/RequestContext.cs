using System.Net;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

/// <summary>
/// Who sent a request and how: the parsed header plus the connection it came on. One instance
/// per request, created by the network layer before dispatch.
/// </summary>
public sealed class RequestContext(RequestHeader header, long connectionId, EndPoint? remoteEndPoint, string listenerName)
{
    public RequestHeader Header { get; } = header;
    public short ApiKey => Header.RequestApiKey;
    public short ApiVersion => Header.RequestApiVersion;
    public int CorrelationId => Header.CorrelationId;
    public string? ClientId => Header.ClientId;
    /// <summary>Unique per accepted connection for the broker's lifetime (starts at 1).</summary>
    public long ConnectionId { get; } = connectionId;
    public EndPoint? RemoteEndPoint { get; } = remoteEndPoint;
    /// <summary>The listener's name from <c>listeners</c>, e.g. PLAINTEXT.</summary>
    public string ListenerName { get; } = listenerName;
}
