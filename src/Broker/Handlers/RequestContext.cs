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

    /// <summary>Set by <see cref="CloseConnection"/>; the network layer reads it after the handler completes.</summary>
    public string? CloseConnectionReason { get; private set; }

    /// <summary>
    /// Asks the network layer to close the connection once this request is done, after the
    /// responses queued before it have been sent, as Kafka's RequestChannel.closeConnection does for
    /// a failed acks=0 produce: the client gets no response, so a closed connection is how it learns
    /// of the error (and refreshes its metadata). The network layer logs <paramref name="reason"/>.
    /// </summary>
    public void CloseConnection(string reason) => CloseConnectionReason = reason;
}
