using System.IO.Pipelines;
using System.Net;

namespace Broker.Network;

/// <summary>
/// An in-memory transport for tests and benchmarks: the test writes request bytes into
/// <see cref="ClientToBroker"/> and reads response bytes from <see cref="BrokerToClient"/>.
/// Spliced records are copied, as they would be over TLS.
/// </summary>
public sealed class MemoryTransport : IConnectionTransport
{
    private readonly Pipe _toBroker = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _toClient = new(new PipeOptions(useSynchronizationContext: false));
    private int _aborted;

    public PipeWriter ClientToBroker => _toBroker.Writer;

    public PipeReader BrokerToClient => _toClient.Reader;

    public PipeReader Input => _toBroker.Reader;

    public EndPoint? RemoteEndPoint => new IPEndPoint(IPAddress.Loopback, 0);

    public bool SupportsSplicedRecords => false;

    public bool IsAborted => Volatile.Read(ref _aborted) != 0;

    public void Start()
    {
    }

    public async ValueTask SendAsync(IReadOnlyList<ResponseFrame> frames, CancellationToken cancellationToken)
    {
        if (IsAborted) throw new IOException("Transport aborted");
        for (int i = 0; i < frames.Count; i++)
        {
            Memory<byte> memory = _toClient.Writer.GetMemory(frames[i].FrameBytes);
            frames[i].CopyTo(memory.Span);
            _toClient.Writer.Advance(frames[i].FrameBytes);
        }

        await _toClient.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0) return;
        _toBroker.Writer.Complete();
        _toClient.Writer.Complete();
    }

    public ValueTask DisposeAsync()
    {
        Abort();
        return ValueTask.CompletedTask;
    }
}
