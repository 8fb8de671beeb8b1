using Broker.Config;

namespace Broker.Network;

/// <summary>
/// This broker's advertised endpoints per listener, as Metadata, FindCoordinator and
/// DescribeCluster report them. advertised.listeners falls back to listeners (Kafka); a port 0
/// (tests) is replaced by the port actually bound, and an empty or wildcard host by the
/// machine's host name (Kafka uses the canonical host name). Valid once the network service has
/// started; before that the configured values are returned.
/// </summary>
public sealed class BrokerEndpoints
{
    private readonly IReadOnlyList<ListenerEndpoint> _configured;
    private volatile IReadOnlyList<ListenerEndpoint> _advertised;

    public BrokerEndpoints(BrokerConfig config)
    {
        _configured = ListenerEndpoint.ParseAll(config.AdvertisedListeners,
            config.GetList("advertised.listeners").Count > 0 ? "advertised.listeners" : "listeners", config);
        _advertised = _configured;
    }

    public IReadOnlyList<ListenerEndpoint> Advertised => _advertised;

    /// <summary>The advertised host and port for a listener name (case-insensitive), or null.</summary>
    public (string Host, int Port)? For(string listenerName)
    {
        foreach (ListenerEndpoint e in _advertised)
        {
            if (string.Equals(e.ListenerName, listenerName, StringComparison.OrdinalIgnoreCase)) return (e.Host, e.Port);
        }

        return null;
    }

    /// <summary>Called by the server after binding: fills in bound ports and concrete hosts.</summary>
    internal void OnBound(IReadOnlyDictionary<string, int> boundPorts)
    {
        var list = new List<ListenerEndpoint>(_configured.Count);
        foreach (ListenerEndpoint e in _configured)
        {
            int port = e.Port == 0 && boundPorts.TryGetValue(e.ListenerName, out int bound) ? bound : e.Port;
            string host = e.Host is "" or "0.0.0.0" or "::" ? System.Net.Dns.GetHostName() : e.Host;
            list.Add(e with { Host = host, Port = port });
        }

        _advertised = list;
    }
}
