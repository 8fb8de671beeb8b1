using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Broker.Tools.CaptureProxy;

/// <summary>
/// One client connection and its upstream connection. Two pumps copy whole frames each way;
/// the request pump remembers the file stem per correlation id so the response pump can name
/// the response after its request (responses echo the correlation id as their first field).
/// Produce with acks=0 has no response, so stems are looked up by id rather than queued.
/// </summary>
internal sealed class ProxiedConnection(long id, TcpClient client, DnsEndPoint target, FrameRecorder recorder)
{
    // A frame larger than this is not Kafka traffic we want to capture (Kafka's default
    // socket.request.max.bytes is 100 MiB); the connection is dropped instead of buffering it.
    private const int MaxFrameBytes = 100 * 1024 * 1024;

    private readonly ConcurrentDictionary<int, string> _stemByCorrelationId = new();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var _ = client;
        using var upstream = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(target.Host, target.Port, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Console.Error.WriteLine($"conn {id}: cannot connect to {target}: {e.Message}");
            return;
        }
        Console.WriteLine($"conn {id}: {client.Client.RemoteEndPoint} -> {upstream.Client.RemoteEndPoint}");

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var requests = PumpAsync(client.GetStream(), upstream.GetStream(), isRequest: true, linked.Token);
        var responses = PumpAsync(upstream.GetStream(), client.GetStream(), isRequest: false, linked.Token);
        await Task.WhenAny(requests, responses);
        // Either side closing ends both: cancel the other pump and close the sockets.
        linked.Cancel();
        client.Close();
        upstream.Close();
        await Task.WhenAll(requests, responses);
        Console.WriteLine($"conn {id}: closed");
    }

    private async Task PumpAsync(NetworkStream source, NetworkStream destination, bool isRequest, CancellationToken cancellationToken)
    {
        var sizeBuffer = new byte[4];
        try
        {
            while (true)
            {
                await source.ReadExactlyAsync(sizeBuffer, cancellationToken);
                var size = BinaryPrimitives.ReadInt32BigEndian(sizeBuffer);
                if (size < 0 || size > MaxFrameBytes)
                {
                    Console.Error.WriteLine($"conn {id}: {(isRequest ? "request" : "response")} frame size {size} out of range; closing");
                    return;
                }
                var frame = new byte[4 + size];
                sizeBuffer.CopyTo(frame, 0);
                await source.ReadExactlyAsync(frame.AsMemory(4), cancellationToken);
                Record(frame.AsSpan(4), isRequest);
                await destination.WriteAsync(frame, cancellationToken);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Peer closed or the other direction ended; nothing to report.
        }
    }

    private void Record(ReadOnlySpan<byte> frame, bool isRequest)
    {
        if (isRequest)
        {
            var stem = recorder.RecordRequest(frame, id);
            if (stem is not null && frame.Length >= 8)
                _stemByCorrelationId[BinaryPrimitives.ReadInt32BigEndian(frame[4..])] = stem;
            return;
        }
        if (frame.Length < 4) return;
        var correlationId = BinaryPrimitives.ReadInt32BigEndian(frame);
        if (_stemByCorrelationId.TryRemove(correlationId, out var requestStem))
            recorder.RecordResponse(frame, requestStem);
    }
}
