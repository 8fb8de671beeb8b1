using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Integration.Tests.DataPath;

/// <summary>
/// Sends requests built with the generated messages over a plain TCP connection and decodes the
/// responses: for inputs a real client would never send (a bad CRC, an oversized batch).
/// </summary>
internal sealed class RawKafkaClient : IAsyncDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream? _stream;
    private int _correlationId;

    public static async Task<RawKafkaClient> ConnectAsync(string bootstrapServers, CancellationToken cancellationToken)
    {
        string first = bootstrapServers.Split(',')[0];
        int colon = first.LastIndexOf(':');
        var client = new RawKafkaClient();
        await client._client.ConnectAsync(first[..colon], int.Parse(first[(colon + 1)..]), cancellationToken);
        client._stream = client._client.GetStream();
        return client;
    }

    public async Task<TResponse> SendAsync<TResponse>(IRequest request, short apiKey, short version, CancellationToken cancellationToken)
        where TResponse : IResponse, new()
    {
        int correlationId = ++_correlationId;
        short headerVersion = ApiMessages.RequestHeaderVersion(apiKey, version);
        var header = new RequestHeader { RequestApiKey = apiKey, RequestApiVersion = version, CorrelationId = correlationId, ClientId = "raw-test" };
        int size = header.ComputeSize(headerVersion) + request.ComputeSize(version);
        byte[] frame = new byte[4 + size];
        BinaryPrimitives.WriteInt32BigEndian(frame, size);
        Write(frame.AsSpan(4), header, headerVersion, request, version);
        await _stream!.WriteAsync(frame, cancellationToken);

        byte[] sizeBytes = new byte[4];
        await _stream.ReadExactlyAsync(sizeBytes, cancellationToken);
        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(sizeBytes)];
        await _stream.ReadExactlyAsync(body, cancellationToken);
        return Read<TResponse>(body, ApiMessages.ResponseHeaderVersion(apiKey, version), version, correlationId);
    }

    /// <summary>Sends without waiting for a response (produce with acks=0).</summary>
    public async Task SendOnlyAsync(IRequest request, short apiKey, short version, CancellationToken cancellationToken)
    {
        short headerVersion = ApiMessages.RequestHeaderVersion(apiKey, version);
        var header = new RequestHeader { RequestApiKey = apiKey, RequestApiVersion = version, CorrelationId = ++_correlationId, ClientId = "raw-test" };
        int size = header.ComputeSize(headerVersion) + request.ComputeSize(version);
        byte[] frame = new byte[4 + size];
        BinaryPrimitives.WriteInt32BigEndian(frame, size);
        Write(frame.AsSpan(4), header, headerVersion, request, version);
        await _stream!.WriteAsync(frame, cancellationToken);
    }

    /// <summary>Sends without reading; returns the correlation id to pass to <see cref="ReceiveAsync"/> (pipelining).</summary>
    public async Task<int> SendPipelinedAsync(IRequest request, short apiKey, short version, CancellationToken cancellationToken)
    {
        await SendOnlyAsync(request, apiKey, version, cancellationToken);
        return _correlationId;
    }

    /// <summary>Reads the next response, which must carry <paramref name="correlationId"/>.</summary>
    public async Task<TResponse> ReceiveAsync<TResponse>(short apiKey, short version, int correlationId, CancellationToken cancellationToken)
        where TResponse : IResponse, new()
    {
        byte[] sizeBytes = new byte[4];
        await _stream!.ReadExactlyAsync(sizeBytes, cancellationToken);
        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(sizeBytes)];
        await _stream.ReadExactlyAsync(body, cancellationToken);
        return Read<TResponse>(body, ApiMessages.ResponseHeaderVersion(apiKey, version), version, correlationId);
    }

    private static void Write(Span<byte> destination, RequestHeader header, short headerVersion, IRequest request, short version)
    {
        var writer = new KafkaWriter(destination);
        header.Write(ref writer, headerVersion);
        request.Write(ref writer, version);
    }

    private static TResponse Read<TResponse>(byte[] body, short headerVersion, short version, int correlationId)
        where TResponse : IResponse, new()
    {
        var reader = new KafkaReader(body);
        var header = new ResponseHeader();
        header.Read(ref reader, headerVersion);
        Assert.Equal(correlationId, header.CorrelationId);
        var response = new TResponse();
        response.Read(ref reader, version);
        Assert.False(reader.Failed);
        return response;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }

        _client.Dispose();
    }
}
