using System.Net;
using System.Net.Sockets;
using System.Text;
using Broker.Config;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Metrics;

/// <summary>
/// Serves <c>GET /metrics</c> (Prometheus text format 0.0.4) on <c>metrics.host</c>:<c>metrics.port</c>.
///
/// A minimal HTTP/1.1 responder over a listening socket rather than prometheus-net's
/// MetricServer: MetricServer sits on HttpListener, which cannot bind port 0 nor report the port
/// it got (the tests start many brokers in one process), and whose Linux implementation needs
/// "+" prefixes for a wildcard host. Scrapers send one small GET per connection; each is
/// answered with Content-Length and the connection is closed, which every Prometheus client
/// accepts. Anything else gets 404 or 405; a request head that does not arrive within
/// <see cref="RequestTimeout"/> or exceeds <see cref="MaxRequestHeadBytes"/> is dropped, and
/// connections beyond <see cref="MaxOpenConnections"/> open at once are closed unanswered.
/// </summary>
public sealed class MetricsHttpServer : IHostedService, IAsyncDisposable
{
    public const string Path = "/metrics";
    private const int MaxRequestHeadBytes = 8192;
    // Scrapers open one connection at a time; more than this at once is a misbehaving client.
    private const int MaxOpenConnections = 16;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly BrokerConfig _config;
    private readonly BrokerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;

    // Taking the collectors here registers their scrape callbacks before the first scrape.
    public MetricsHttpServer(BrokerConfig config, BrokerMetrics metrics, ScrapeCollectors collectors, ILogger<MetricsHttpServer> logger)
    {
        _ = collectors;
        _config = config;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The bound endpoint (valid after start; port 0 resolved).</summary>
    public IPEndPoint? BoundEndPoint { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        int port = _config.GetInt("metrics.port");
        string host = _config.GetString("metrics.host") ?? "";
        IPAddress address = ResolveHost(host);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(64);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new ConfigException("metrics.port", $"cannot listen on {host}:{port} for metrics: {e.Message}");
        }

        _listener = listener;
        BoundEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _logger.LogInformation("Serving Prometheus metrics on http://{EndPoint}{Path}", BoundEndPoint, Path);
        _acceptLoop = AcceptLoopAsync(listener);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] open;
        lock (_connections)
        {
            open = _connections.ToArray();
        }

        await Task.WhenAll(open).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static IPAddress ResolveHost(string host)
    {
        if (host.Length == 0 || host == "0.0.0.0")
        {
            return IPAddress.Any;
        }

        if (host == "::")
        {
            return IPAddress.IPv6Any;
        }

        if (IPAddress.TryParse(host, out IPAddress? parsed))
        {
            return parsed;
        }

        IPAddress[] addresses = Dns.GetHostAddresses(host);
        if (addresses.Length == 0)
        {
            throw new ConfigException("metrics.host", $"{host} does not resolve");
        }

        // "localhost" may list ::1 first; scrapers configured with the name usually reach 127.0.0.1.
        foreach (IPAddress candidate in addresses)
        {
            if (candidate.AddressFamily == AddressFamily.InterNetwork)
            {
                return candidate;
            }
        }

        return addresses[0];
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                _logger.LogWarning(e, "Metrics listener accept failed");
                continue;
            }

            bool full;
            lock (_connections)
            {
                _connections.RemoveAll(static t => t.IsCompleted);
                full = _connections.Count >= MaxOpenConnections;
            }

            if (full)
            {
                _logger.LogDebug("Metrics request from {Remote} refused: {Max} requests already open", client.RemoteEndPoint, MaxOpenConnections);
                client.Dispose();
                continue;
            }

            Task served = ServeAsync(client);
            lock (_connections)
            {
                _connections.Add(served);
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(RequestTimeout);
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            string? requestLine = await ReadRequestLineAsync(stream, timeout.Token).ConfigureAwait(false);
            if (requestLine is null)
            {
                return;
            }

            string[] parts = requestLine.Split(' ');
            if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                await WriteAsync(stream, "400 Bad Request", "text/plain; charset=utf-8", "bad request\n"u8.ToArray(), true, timeout.Token).ConfigureAwait(false);
                return;
            }

            bool head = parts[0] == "HEAD";
            if (parts[0] != "GET" && !head)
            {
                await WriteAsync(stream, "405 Method Not Allowed", "text/plain; charset=utf-8", "only GET\n"u8.ToArray(), true, timeout.Token).ConfigureAwait(false);
                return;
            }

            string target = parts[1];
            int query = target.IndexOf('?', StringComparison.Ordinal);
            string path = query < 0 ? target : target[..query];
            if (path != Path)
            {
                await WriteAsync(stream, "404 Not Found", "text/plain; charset=utf-8", "metrics are at /metrics\n"u8.ToArray(), !head, timeout.Token).ConfigureAwait(false);
                return;
            }

            using var body = new MemoryStream();
            await _metrics.Registry.CollectAndExportAsTextAsync(body, timeout.Token).ConfigureAwait(false);
            await WriteAsync(stream, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body.ToArray(), !head, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("Metrics request from {Remote} dropped: {Message}", client.RemoteEndPoint, e.Message);
        }
        catch (Exception e)
        {
            // Never let one scrape fault the server (StopAsync awaits these tasks).
            _logger.LogWarning(e, "Metrics request from {Remote} failed", client.RemoteEndPoint);
        }
    }

    /// <summary>Reads the request head up to the blank line; returns its first line, or null if the peer went away or sent too much.</summary>
    private static async Task<string?> ReadRequestLineAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        byte[] head = new byte[MaxRequestHeadBytes];
        int filled = 0;
        while (filled < head.Length)
        {
            int read = await stream.ReadAsync(head.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            filled += read;
            int end = head.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                int lineEnd = head.AsSpan(0, end + 2).IndexOf("\r\n"u8);
                return Encoding.ASCII.GetString(head, 0, lineEnd);
            }
        }

        return null;
    }

    private static async Task WriteAsync(NetworkStream stream, string status, string contentType, byte[] body, bool includeBody, CancellationToken cancellationToken)
    {
        string headers = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), cancellationToken).ConfigureAwait(false);
        if (includeBody)
        {
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }

        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
