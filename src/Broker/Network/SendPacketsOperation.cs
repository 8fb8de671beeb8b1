using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Broker.Network;

/// <summary>
/// A reusable awaitable around Socket.SendPacketsAsync (which only has the SocketAsyncEventArgs
/// form). One per connection; the send loop issues one operation at a time.
/// </summary>
internal sealed class SendPacketsOperation : SocketAsyncEventArgs, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _source = new() { RunContinuationsAsynchronously = true };

    public SendPacketsOperation()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    public ValueTask SendAsync(Socket socket, SendPacketsElement[] elements)
    {
        _source.Reset();
        SendPacketsElements = elements;
        if (socket.SendPacketsAsync(this)) return new ValueTask(this, _source.Version);
        SendPacketsElements = null;
        return SocketError == SocketError.Success ? ValueTask.CompletedTask : ValueTask.FromException(new SocketException((int)SocketError));
    }

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        SendPacketsElements = null;
        if (e.SocketError == SocketError.Success) _source.SetResult(true);
        else _source.SetException(new SocketException((int)e.SocketError));
    }

    void IValueTaskSource.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
