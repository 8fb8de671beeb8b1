using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Integration.Tests.Network;

/// <summary>
/// A TCP connection to the broker that can send arbitrary bytes (bad frames) as well as
/// well-formed requests, and observe whether the broker answers or closes. Every wait is bounded.
/// </summary>
internal sealed class RawConnection : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private int _correlationId;

    public static async Task<RawConnection> ConnectAsync(string bootstrapServers)
    {
        string first = bootstrapServers.Split(',')[0];
        int colon = first.LastIndexOf(':');
        var connection = new RawConnection();
        using var timeout = new CancellationTokenSource(Deadline);
        await connection._socket.ConnectAsync(first[..colon], int.Parse(first[(colon + 1)..]), timeout.Token);
        return connection;
    }

    /// <summary>A whole request frame (size prefix, header, body) for <paramref name="apiKey"/> v<paramref name="version"/>.</summary>
    public static byte[] Frame(IRequest request, short apiKey, short version, int correlationId, string clientId = "bad-input-test")
    {
        short headerVersion = ApiMessages.Get(apiKey)?.RequestHeaderVersion(version) ?? 1;
        var header = new RequestHeader { RequestApiKey = apiKey, RequestApiVersion = version, CorrelationId = correlationId, ClientId = clientId };
        int size = header.ComputeSize(headerVersion) + request.ComputeSize(version);
        byte[] frame = new byte[4 + size];
        BinaryPrimitives.WriteInt32BigEndian(frame, size);
        var writer = new KafkaWriter(frame.AsSpan(4));
        header.Write(ref writer, headerVersion);
        request.Write(ref writer, version);
        return frame;
    }

    /// <summary>An ApiVersions request a real client would send (v3+ requires a valid software name and version).</summary>
    public static ApiVersionsRequest ApiVersions() => new() { ClientSoftwareName = "raw-test", ClientSoftwareVersion = "1.0" };

    public int NextCorrelationId() => ++_correlationId;

    public async Task WriteAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        await _socket.SendAsync(bytes, SocketFlags.None, timeout.Token);
    }

    /// <summary>Half-closes: the broker sees end of stream.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public async Task<TResponse> SendAsync<TResponse>(IRequest request, short version)
        where TResponse : IResponse, new()
    {
        short apiKey = new TResponse().ApiKey;
        int correlationId = NextCorrelationId();
        await WriteAsync(Frame(request, apiKey, version, correlationId));
        return await ReceiveAsync<TResponse>(apiKey, version, correlationId);
    }

    public async Task<TResponse> ReceiveAsync<TResponse>(short apiKey, short version, int correlationId)
        where TResponse : IResponse, new()
    {
        byte[] body = await ReadFrameAsync() ?? throw new Xunit.Sdk.XunitException("the broker closed the connection instead of answering");
        var reader = new KafkaReader(body);
        var header = new ResponseHeader();
        header.Read(ref reader, ApiMessages.ResponseHeaderVersion(apiKey, version));
        Assert.Equal(correlationId, header.CorrelationId);
        var response = new TResponse();
        response.Read(ref reader, version);
        Assert.False(reader.Failed);
        return response;
    }

    /// <summary>Waits (bounded) for the broker to close the connection; fails if it sends anything instead.</summary>
    public async Task AssertClosedByBrokerAsync()
    {
        byte[]? frame = await ReadFrameAsync();
        Assert.True(frame is null, $"expected the broker to close the connection, got a {frame?.Length}-byte response");
    }

    /// <summary>The next response frame's body, or null when the broker closed (FIN or reset) before a whole frame arrived.</summary>
    private async Task<byte[]?> ReadFrameAsync()
    {
        byte[] prefix = new byte[4];
        if (!await ReadExactlyAsync(prefix)) return null;
        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        return await ReadExactlyAsync(body) ? body : null;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        int filled = 0;
        try
        {
            while (filled < buffer.Length)
            {
                int read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token);
                if (read == 0) return false;
                filled += read;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return false;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException($"nothing from the broker (neither a response nor a close) within {Deadline}");
        }

        return true;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
