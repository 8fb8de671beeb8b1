using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Broker.Config;
using Broker.Handlers;
using Broker.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Network;

/// <summary>
/// Binds every listener in <c>listeners</c>, accepts connections and runs a
/// <see cref="KafkaConnection"/> for each. Registered as the last hosted service, so it starts
/// after storage, replication and the coordinators are ready and stops first: on stop it closes
/// the listening sockets, lets every connection answer the requests it already read (until the
/// host's shutdown timeout), then closes them — Kafka's SocketServer.stopProcessingRequests.
/// Also closes connections idle for connections.max.idle.ms. At max.connections the accept loops
/// stop accepting until a connection closes, as Kafka's Acceptor waits for a connection slot
/// (ConnectionQuotas.waitForConnectionSlot): new clients wait in the listen backlog instead of
/// being refused. (Kafka's exception for the inter-broker listener, closing the least recently
/// used client connection, has no counterpart on a single node.)
/// </summary>
public sealed class KafkaServer : IHostedService, IAsyncDisposable
{
    private readonly BrokerConfig _config;
    private readonly HandlerRegistry _registry;
    private readonly BrokerEndpoints _endpoints;
    private readonly ILogger<KafkaServer> _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ConnectionOptions _options;
    private readonly ConcurrentDictionary<long, KafkaConnection> _connections = new();
    private readonly List<(ListenerEndpoint Listener, Socket Socket)> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task _idleSweeper = Task.CompletedTask;
    private long _nextConnectionId;
    private readonly RequestMetrics? _requestMetrics;
    private readonly Dictionary<string, IPEndPoint> _bound = new(StringComparer.OrdinalIgnoreCase);
    // One slot per connection allowed by max.connections, shared by every listener (broker-wide).
    private readonly SemaphoreSlim _connectionSlots;

    public KafkaServer(BrokerConfig config, HandlerRegistry registry, BrokerEndpoints endpoints, ILoggerFactory loggerFactory,
        BrokerMetrics? metrics = null)
    {
        _requestMetrics = metrics?.Requests;
        _config = config;
        _registry = registry;
        _endpoints = endpoints;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<KafkaServer>();
        _options = ConnectionOptions.From(config);
        int maxConnections = config.GetInt("max.connections");
        _connectionSlots = new SemaphoreSlim(maxConnections, maxConnections);
    }

    /// <summary>The bound endpoint of each listener by name (valid after start; port 0 resolved).</summary>
    public IReadOnlyDictionary<string, IPEndPoint> BoundEndPoints => _bound;

    public int ConnectionCount => _connections.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ListenerEndpoint> listeners = ListenerEndpoint.ParseAll(_config.GetList("listeners"), "listeners", _config);
        var ports = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (ListenerEndpoint listener in listeners)
        {
            if (!string.Equals(listener.SecurityProtocol, "PLAINTEXT", StringComparison.OrdinalIgnoreCase))
            {
                throw new ConfigException("listeners", $"Listener {listener.ListenerName} uses {listener.SecurityProtocol}; only PLAINTEXT is supported");
            }

            Socket socket = Bind(listener);
            var bound = (IPEndPoint)socket.LocalEndPoint!;
            _listeners.Add((listener, socket));
            _bound[listener.ListenerName] = bound;
            ports[listener.ListenerName] = bound.Port;
            _logger.LogInformation("Listening on {Listener} ({EndPoint})", listener, bound);
        }

        _endpoints.OnBound(ports);
        foreach ((ListenerEndpoint listener, Socket socket) in _listeners)
        {
            _acceptLoops.Add(AcceptLoopAsync(listener, socket));
        }

        _idleSweeper = SweepIdleAsync();
        return Task.CompletedTask;
    }

    private Socket Bind(ListenerEndpoint listener)
    {
        IPAddress address = listener.BindAddresses()[0];
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            // Kafka sets SO_REUSEADDR on its server socket so a restart can rebind at once.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            int receiveBuffer = _config.GetInt("socket.receive.buffer.bytes");
            if (receiveBuffer > 0) socket.ReceiveBufferSize = receiveBuffer;
            socket.Bind(new IPEndPoint(address, listener.Port));
            socket.Listen(_config.GetInt("socket.listen.backlog.size"));
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new InvalidOperationException($"Cannot bind listener {listener}: {e.Message}", e);
        }
    }

    private async Task AcceptLoopAsync(ListenerEndpoint listener, Socket listenSocket)
    {
        int sendBuffer = _config.GetInt("socket.send.buffer.bytes");
        int receiveBuffer = _config.GetInt("socket.receive.buffer.bytes");
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                if (!_connectionSlots.Wait(0))
                {
                    _logger.LogInformation("max.connections ({Max}) reached: {Listener} accepts again when a connection closes",
                        _config.GetInt("max.connections"), listener);
                    await _connectionSlots.WaitAsync(_stopping.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                client = await listenSocket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                _connectionSlots.Release();
                return;
            }
            catch (SocketException e)
            {
                _connectionSlots.Release();
                _logger.LogWarning("Accept on {Listener} failed: {Message}", listener, e.Message);
                continue;
            }

            try
            {
                // Kafka's clients and broker both disable Nagle: requests and responses are framed already.
                client.NoDelay = true;
                if (sendBuffer > 0) client.SendBufferSize = sendBuffer;
                if (receiveBuffer > 0) client.ReceiveBufferSize = receiveBuffer;
            }
            catch (SocketException e)
            {
                // The peer went away between accept and setup.
                _logger.LogDebug("Connection from {Remote} on {Listener} lost during setup: {Message}", client.RemoteEndPoint, listener, e.Message);
                client.Dispose();
                _connectionSlots.Release();
                continue;
            }

            long id = Interlocked.Increment(ref _nextConnectionId);
            var transport = new SocketTransport(client, _logger, _options.InputPauseThresholdBytes);
            var connection = new KafkaConnection(id, transport, _options, _registry, _loggerFactory.CreateLogger<KafkaConnection>(), listener.ListenerName, _requestMetrics);
            _connections[id] = connection;
            _ = RunConnectionAsync(connection);
        }
    }

    private async Task RunConnectionAsync(KafkaConnection connection)
    {
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Connection {ConnectionId} failed", connection.Id);
        }
        finally
        {
            _connections.TryRemove(connection.Id, out _);
            _connectionSlots.Release();
        }
    }

    /// <summary>Closes connections with nothing in flight and no traffic for connections.max.idle.ms (Kafka's Selector idle expiry).</summary>
    private async Task SweepIdleAsync()
    {
        long idleMs = _options.ConnectionsMaxIdleMs;
        if (idleMs <= 0) return;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(idleMs / 10, 50, 30_000));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                foreach (KafkaConnection connection in _connections.Values)
                {
                    if (connection.InFlight == 0 && now - connection.LastActivityTicks > idleMs)
                    {
                        _logger.LogDebug("Closing connection {ConnectionId}: idle for more than connections.max.idle.ms ({IdleMs})", connection.Id, idleMs);
                        connection.Abort();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        foreach ((_, Socket socket) in _listeners) socket.Dispose();
        try
        {
            await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Accept loop ended with an error");
        }

        var closing = new List<Task>();
        foreach (KafkaConnection connection in _connections.Values)
        {
            connection.BeginClose(cancellationToken);
            closing.Add(connection.Closed);
        }

        _logger.LogInformation("Stopped accepting; draining {Count} connections", closing.Count);
        try
        {
            await Task.WhenAll(closing).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            foreach (KafkaConnection connection in _connections.Values) connection.Abort();
            _logger.LogWarning("Shutdown timeout: aborted connections with unanswered requests");
        }

        await _idleSweeper.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested) await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        // _connectionSlots is not disposed: a connection ending late may still release its slot.
    }
}
