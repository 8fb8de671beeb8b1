using Broker.Config;

namespace Broker.Network;

/// <summary>Per-connection limits, read once from the broker config.</summary>
public sealed record ConnectionOptions
{
    /// <summary>socket.request.max.bytes: a larger size prefix closes the connection before anything is buffered.</summary>
    public int SocketRequestMaxBytes { get; init; } = 104857600;

    /// <summary>Requests dispatched but not yet answered before reading pauses (ours: max.inflight.requests.per.connection).</summary>
    public int MaxInFlightRequests { get; init; } = 100;

    /// <summary>Unconsumed received bytes before the receive loop stops reading the socket.</summary>
    public long InputPauseThresholdBytes { get; init; } = 1024 * 1024;

    /// <summary>Responses are gathered into one send up to about this many bytes.</summary>
    public int MaxSendBatchBytes { get; init; } = 1024 * 1024;

    /// <summary>connections.max.idle.ms.</summary>
    public long ConnectionsMaxIdleMs { get; init; } = 600000;

    public static ConnectionOptions From(BrokerConfig config) => new()
    {
        SocketRequestMaxBytes = config.GetInt("socket.request.max.bytes"),
        MaxInFlightRequests = config.GetInt("max.inflight.requests.per.connection"),
        ConnectionsMaxIdleMs = config.GetLong("connections.max.idle.ms"),
    };
}
