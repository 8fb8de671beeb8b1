using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Broker.Storage;
using Microsoft.Extensions.Logging;

namespace Broker.Network;

/// <summary>
/// Plain TCP, modelled on Kestrel's SocketConnection: a receive loop copies socket reads into a
/// Pipe (its pause/resume thresholds stop reading from the socket when the connection falls
/// behind), and sends go straight to the socket. A response without spliced records is one
/// gathered send; with spliced records the whole batch goes through Socket.SendPacketsAsync,
/// whose file elements .NET sends with sendfile(2) on Linux (SocketPal.Unix -> SendFileAsync),
/// so fetched records go from the page cache to the socket without a copy through user space.
/// Abort is idempotent.
/// </summary>
public sealed class SocketTransport : IConnectionTransport
{
    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly ILogger _logger;
    private readonly List<ArraySegment<byte>> _segments = new();
    private readonly SendPacketsOperation _sendPackets = new();

    // One recv(2) per 64 KiB instead of per 4 KiB (the Pipe's default segment): on loopback a
    // receive also runs the TCP work of the peer's transmission and sends an ACK, and the 4 KiB
    // reads made recv 40 % of the broker's CPU when producing 1 KB records (docs/performance.md).
    private const int ReceiveSegmentBytes = 64 * 1024;
    private Task _receiveTask = Task.CompletedTask;
    private int _aborted;

    public SocketTransport(Socket socket, ILogger logger, long pauseThresholdBytes = 1024 * 1024)
    {
        _socket = socket;
        _logger = logger;
        RemoteEndPoint = socket.RemoteEndPoint;
        _input = new Pipe(new PipeOptions(
            pauseWriterThreshold: pauseThresholdBytes,
            resumeWriterThreshold: pauseThresholdBytes / 2,
            minimumSegmentSize: ReceiveSegmentBytes,
            // The connection's processing loop runs on the receive loop's thread, right after
            // the flush that completes a frame: one thread hop per read instead of two. Every
            // hop is a futex wake and a context switch, which were a quarter of the broker's CPU
            // when producing many small requests (docs/performance.md).
            readerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
    }

    public PipeReader Input => _input.Reader;

    public EndPoint? RemoteEndPoint { get; }

    public bool SupportsSplicedRecords => true;

    public void Start() => _receiveTask = ReceiveLoopAsync();

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        PipeWriter writer = _input.Writer;
        try
        {
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(ReceiveSegmentBytes);
                int read = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (read == 0) break; // orderly close by the peer
                writer.Advance(read);
                FlushResult flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled) break;
            }
        }
        catch (SocketException e) when (IsConnectionReset(e.SocketErrorCode))
        {
            // The peer went away; not an error worth more than the connection's own close log.
        }
        catch (ObjectDisposedException)
        {
            // Aborted locally.
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    public async ValueTask SendAsync(IReadOnlyList<ResponseFrame> frames, CancellationToken cancellationToken)
    {
        bool spliced = false;
        for (int i = 0; i < frames.Count; i++) spliced |= frames[i].Splices is not null;
        if (!spliced)
        {
            _segments.Clear();
            for (int i = 0; i < frames.Count; i++)
            {
                // ResponseFrame buffers are pooled arrays starting at 0.
                System.Runtime.InteropServices.MemoryMarshal.TryGetArray(frames[i].Buffer, out ArraySegment<byte> segment);
                _segments.Add(segment);
            }

            int total = 0;
            foreach (ArraySegment<byte> s in _segments) total += s.Count;
            int sent = await _socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
            if (sent != total) await SendRemainderAsync(_segments, sent, cancellationToken).ConfigureAwait(false);
            return;
        }

        var elements = new List<SendPacketsElement>();
        var streams = new List<FileStream>();
        try
        {
            for (int i = 0; i < frames.Count; i++) AddElements(frames[i], elements, streams);
            await _sendPackets.SendAsync(_socket, elements.ToArray()).ConfigureAwait(false);
        }
        finally
        {
            // The FileStreams only wrap Storage's handles: never dispose them (that would close the
            // segment file); suppress their finalizers, which would not close the handle either.
            foreach (FileStream s in streams) GC.SuppressFinalize(s);
        }
    }

    private static void AddElements(ResponseFrame frame, List<SendPacketsElement> elements, List<FileStream> streams)
    {
        ReadOnlyMemory<byte> buffer = frame.Buffer;
        if (frame.Splices is null)
        {
            elements.Add(new SendPacketsElement(buffer));
            return;
        }

        int from = 0;
        foreach (Protocol.Wire.RecordsSplice splice in frame.Splices)
        {
            if (splice.Position > from) elements.Add(new SendPacketsElement(buffer[from..splice.Position]));
            from = splice.Position;
            int count = splice.Records.SizeInBytes;
            // A zero count would mean "the whole file" to SendPacketsElement.
            if (count == 0) continue;
            if (splice.Records is FileRecords file)
            {
                var stream = new FileStream(file.Handle, FileAccess.Read, bufferSize: 0);
                streams.Add(stream);
                elements.Add(new SendPacketsElement(stream, file.Position, count, endOfPacket: false));
            }
            else
            {
                var copy = new byte[count];
                splice.Records.CopyTo(copy);
                elements.Add(new SendPacketsElement(copy));
            }
        }

        if (buffer.Length > from) elements.Add(new SendPacketsElement(buffer[from..]));
    }

    private async Task SendRemainderAsync(List<ArraySegment<byte>> segments, int sent, CancellationToken cancellationToken)
    {
        foreach (ArraySegment<byte> segment in segments)
        {
            if (sent >= segment.Count)
            {
                sent -= segment.Count;
                continue;
            }

            ReadOnlyMemory<byte> rest = segment.AsMemory(sent);
            sent = 0;
            while (!rest.IsEmpty)
            {
                int n = await _socket.SendAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                rest = rest[n..];
            }
        }
    }

    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0) return;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }

        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        try
        {
            await _receiveTask.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Receive loop ended with an error");
        }

        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        _sendPackets.Dispose();
    }

    private static bool IsConnectionReset(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.OperationAborted or SocketError.Interrupted;
}
