using System.Net;
using Broker.Config;

namespace Broker.Network;

/// <summary>
/// One entry of <c>listeners</c> / <c>advertised.listeners</c>: <c>NAME://host:port</c>, where an
/// empty host means every interface (Kafka's <c>PLAINTEXT://:9092</c>) and IPv6 hosts are
/// bracketed. The security protocol comes from listener.security.protocol.map (Kafka's
/// EndPoint.parseListenerName / createEndPoint).
/// </summary>
public sealed record ListenerEndpoint(string ListenerName, string Host, int Port, string SecurityProtocol)
{
    public static IReadOnlyList<ListenerEndpoint> ParseAll(IReadOnlyList<string> entries, string key, BrokerConfig config)
    {
        Dictionary<string, string> protocolMap = ParseProtocolMap(config.GetString("listener.security.protocol.map") ?? "");
        var result = new List<ListenerEndpoint>(entries.Count);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string entry in entries)
        {
            ListenerEndpoint endpoint = Parse(entry, key, protocolMap);
            if (!names.Add(endpoint.ListenerName)) throw new ConfigException(key, $"Each listener must have a different name; {endpoint.ListenerName} appears twice in {key}");
            result.Add(endpoint);
        }

        return result;
    }

    public static ListenerEndpoint Parse(string entry, string key, IReadOnlyDictionary<string, string> protocolMap)
    {
        int scheme = entry.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0) throw new ConfigException(key, $"Invalid value {entry} for configuration {key}: expected NAME://host:port");
        string name = entry[..scheme].ToUpperInvariant();
        string hostPort = entry[(scheme + 3)..];
        int colon = hostPort.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(hostPort.AsSpan(colon + 1), out int port) || port is < 0 or > 65535)
        {
            throw new ConfigException(key, $"Invalid value {entry} for configuration {key}: expected NAME://host:port with a port 0-65535");
        }

        string host = hostPort[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        string protocol = protocolMap.TryGetValue(name, out string? p) ? p
            : throw new ConfigException(key, $"No security protocol defined for listener {name} (listener.security.protocol.map)");
        return new ListenerEndpoint(name, host, port, protocol);
    }

    public static Dictionary<string, string> ParseProtocolMap(string value)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string pair in ConfigDef.SplitList(value))
        {
            int colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) throw new ConfigException("listener.security.protocol.map", $"Invalid value {value} for configuration listener.security.protocol.map");
            map[pair[..colon].Trim()] = pair[(colon + 1)..].Trim().ToUpperInvariant();
        }

        return map;
    }

    /// <summary>Addresses to bind: empty host = all interfaces (IPv6 dual-mode), else the literal or resolved host.</summary>
    public IPAddress[] BindAddresses()
    {
        if (Host.Length == 0) return [IPAddress.IPv6Any];
        if (IPAddress.TryParse(Host, out IPAddress? address)) return [address];
        IPAddress[] resolved = Dns.GetHostAddresses(Host);
        return resolved.Length > 0 ? [resolved[0]] : throw new ConfigException("listeners", $"Cannot resolve listener host {Host}");
    }

    public override string ToString() => $"{ListenerName}://{(Host.Contains(':') ? "[" + Host + "]" : Host)}:{Port}";
}
