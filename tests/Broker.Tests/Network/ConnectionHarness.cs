using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Broker.Handlers;
using Broker.Network;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;
using Microsoft.Extensions.Logging;

namespace Broker.Tests.Network;

/// <summary>
/// Drives one <see cref="KafkaConnection"/> over a <see cref="MemoryTransport"/>: writes request
/// frames, reads response frames, and captures the connection's log lines.
/// </summary>
internal sealed class ConnectionHarness : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly MemoryTransport _transport = new();
    private readonly Task _run;
    private int _correlationId;

    public ConnectionHarness(params IApiHandler[] handlers)
        : this(new ConnectionOptions(), handlers)
    {
    }

    public ConnectionHarness(ConnectionOptions options, params IApiHandler[] handlers)
    {
        Connection = new KafkaConnection(1, _transport, options, new HandlerRegistry(handlers), Logger, "PLAINTEXT");
        _run = Connection.RunAsync();
    }

    public KafkaConnection Connection { get; }

    public CapturingLogger Logger { get; } = new();

    public int LastCorrelationId => _correlationId;

    /// <summary>Writes one request frame; returns its correlation id.</summary>
    public async Task<int> SendAsync(IRequest request, short version, string clientId = "harness")
    {
        int correlationId = ++_correlationId;
        short headerVersion = ApiMessages.RequestHeaderVersion(request.ApiKey, version);
        var header = new RequestHeader { RequestApiKey = request.ApiKey, RequestApiVersion = version, CorrelationId = correlationId, ClientId = clientId };
        int size = header.ComputeSize(headerVersion) + request.ComputeSize(version);
        byte[] frame = new byte[4 + size];
        BinaryPrimitives.WriteInt32BigEndian(frame, size);
        var writer = new KafkaWriter(frame.AsSpan(4));
        header.Write(ref writer, headerVersion);
        request.Write(ref writer, version);
        await _transport.ClientToBroker.WriteAsync(frame);
        return correlationId;
    }

    /// <summary>Reads the next response frame and decodes it; fails if the connection closes or the deadline passes.</summary>
    public async Task<TResponse> ReceiveAsync<TResponse>(short version, int expectedCorrelationId)
        where TResponse : IResponse, new()
    {
        byte[] body = await ReadFrameAsync() ?? throw new Xunit.Sdk.XunitException("connection closed before a response arrived");
        var reader = new KafkaReader(body);
        var header = new ResponseHeader();
        header.Read(ref reader, ApiMessages.ResponseHeaderVersion(new TResponse().ApiKey, version));
        Assert.Equal(expectedCorrelationId, header.CorrelationId);
        var response = new TResponse();
        response.Read(ref reader, version);
        Assert.False(reader.Failed);
        Assert.Equal(0, reader.Remaining);
        return response;
    }

    public async Task<TResponse> RoundTripAsync<TResponse>(IRequest request, short version)
        where TResponse : IResponse, new()
    {
        int correlationId = await SendAsync(request, version);
        return await ReceiveAsync<TResponse>(version, correlationId);
    }

    /// <summary>Waits (bounded) for the broker to close the connection; fails if a response arrives instead.</summary>
    public async Task AssertClosedAsync()
    {
        byte[]? frame = await ReadFrameAsync();
        Assert.Null(frame);
        await _run.WaitAsync(Deadline);
    }

    /// <summary>Next frame body (without its size prefix), or null when the broker closed the connection.</summary>
    private async Task<byte[]?> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        PipeReader reader = _transport.BrokerToClient;
        byte[] prefix = new byte[4];
        while (true)
        {
            ReadResult result = await reader.ReadAsync(timeout.Token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length >= 4)
            {
                buffer.Slice(0, 4).CopyTo(prefix);
                int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
                if (buffer.Length >= 4 + size)
                {
                    byte[] body = buffer.Slice(4, size).ToArray();
                    reader.AdvanceTo(buffer.GetPosition(4 + size));
                    return body;
                }
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Connection.Abort();
        await _run.WaitAsync(Deadline);
    }
}

/// <summary>Records formatted log lines with their level and exception, for assertions on what the broker logged.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message, Exception? Exception)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries
    {
        get
        {
            lock (_entries) return _entries.ToArray();
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries) _entries.Add((logLevel, formatter(state, exception), exception));
    }
}

/// <summary>A handler whose behaviour the test supplies.</summary>
internal sealed class DelegateHandler(short apiKey, Func<RequestContext, IApiMessage, ValueTask<IApiMessage?>> handle, short minVersion = -1, short maxVersion = -1) : IApiHandler
{
    public short ApiKey => apiKey;
    public short MinVersion => minVersion >= 0 ? minVersion : ApiMessages.Get(apiKey)!.LowestSupportedVersion;
    public short MaxVersion => maxVersion >= 0 ? maxVersion : ApiMessages.Get(apiKey)!.HighestSupportedVersion;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken) => handle(context, request);

    public static DelegateHandler Throwing(short apiKey) =>
        new(apiKey, static (_, _) => throw new InvalidOperationException("handler bug"));

    public static DelegateHandler ThrowingAsync(short apiKey) =>
        new(apiKey, static async (_, _) =>
        {
            await Task.Yield();
            throw new InvalidOperationException("handler bug after await");
        });
}
