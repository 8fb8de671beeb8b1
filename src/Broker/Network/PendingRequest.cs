using System.Buffers;
using Broker.Handlers;
using Broker.Protocol;

namespace Broker.Network;

/// <summary>
/// A dispatched request whose response has not been sent yet. Owns the request's pooled frame
/// buffer (records in the request are slices of it) until the response is written.
/// </summary>
internal sealed class PendingRequest(RequestContext context, IRequest? request, ValueTask<IApiMessage?> response, byte[]? frameBuffer, short responseHeaderVersion)
{
    private byte[]? _frameBuffer = frameBuffer;

    public RequestContext Context { get; } = context;

    /// <summary>The parsed request, for an error response if the handler throws; null for responses the network layer made itself.</summary>
    public IRequest? Request { get; } = request;

    /// <summary>Awaited exactly once, by the send loop.</summary>
    public ValueTask<IApiMessage?> Response { get; } = response;

    public short ResponseHeaderVersion { get; } = responseHeaderVersion;

    /// <summary>Stopwatch timestamp of the complete request frame (the request metrics' total time starts here).</summary>
    public long ReceivedTimestamp { get; init; }

    public void ReleaseFrame()
    {
        byte[]? buffer = _frameBuffer;
        _frameBuffer = null;
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
