using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Channels;
using Broker.Handlers;
using Broker.Metrics;
using Broker.Protocol;
using Broker.Protocol.Framing;
using Broker.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Broker.Network;

/// <summary>
/// One client connection: a processing loop that cuts the input into request frames and
/// dispatches them, and a send loop that writes the responses in request order.
///
/// Frames: the 4-byte size prefix is checked against socket.request.max.bytes before anything
/// else is buffered (Kafka's NetworkReceive -> InvalidReceiveException closes the connection);
/// the frame is then copied, as it arrives, into one pooled buffer of exactly its size, so the
/// input pipe never holds more than its pause threshold and the parsed request can slice its
/// records out of that buffer. The buffer is returned after the response has been written.
///
/// Ordering: handlers are invoked in arrival order, one after another on this loop, so the
/// synchronous part of each handler (e.g. a produce append) runs before the next request is
/// dispatched; a handler may then complete asynchronously (a fetch long-poll, acks=all) while
/// later requests are dispatched. Responses always leave in request order (Kafka clients match
/// them by order and correlation id). At most MaxInFlightRequests are outstanding; beyond that
/// the processing loop stops reading, the pipe fills and the socket is no longer read.
///
/// Errors follow Kafka's SocketServer/KafkaApis: a malformed header or body, an unknown api key,
/// or an unsupported version closes the connection with a log line, except ApiVersions with an
/// unsupported version, which is answered with a v0 UNSUPPORTED_VERSION body listing our
/// ApiVersions range (KIP-511; the Java client downgrades on it). A handler that throws is logged
/// at error level and its request answered with UNKNOWN_SERVER_ERROR in the API's error fields
/// (<see cref="ErrorResponseBuilder"/>, Kafka's AbstractRequest.getErrorResponse); the connection
/// stays open. An acks=0 produce has no response to carry an error, so it closes the connection
/// instead, as does a handler that asks for it (<see cref="RequestContext.CloseConnection"/>).
/// </summary>
public sealed class KafkaConnection
{
    private readonly IConnectionTransport _transport;
    private readonly ConnectionOptions _options;
    private readonly HandlerRegistry _registry;
    private readonly ILogger _logger;
    private readonly string _listenerName;
    private readonly RequestMetrics? _requestMetrics;
    private readonly Channel<PendingRequest> _pending;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _connectionClosed = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ClientIdCache _clientIds = new(); // only the reading loop parses headers

    // The frame being assembled: a pooled buffer of exactly _frameSize bytes, _frameFilled so far.
    private byte[]? _frame;
    private int _frameSize;
    private int _frameFilled;
    private long _lastActivityTicks = Environment.TickCount64;
    private int _inFlight;
    // One slot per request dispatched and not yet answered (max.inflight.requests.per.connection),
    // taken before the handler runs so that no more than that many handlers are ever outstanding.
    private readonly SemaphoreSlim _inFlightSlots;
    private int _closeStarted;

    public KafkaConnection(long id, IConnectionTransport transport, ConnectionOptions options, HandlerRegistry registry, ILogger logger, string listenerName,
        RequestMetrics? requestMetrics = null)
    {
        Id = id;
        _transport = transport;
        _options = options;
        _registry = registry;
        _logger = logger;
        _listenerName = listenerName;
        _requestMetrics = requestMetrics;
        _inFlightSlots = new SemaphoreSlim(options.MaxInFlightRequests, options.MaxInFlightRequests);
        _pending = Channel.CreateBounded<PendingRequest>(new BoundedChannelOptions(options.MaxInFlightRequests)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
            // The send loop resumes on the thread that enqueued the response (no thread hop per
            // response; see the reader scheduler in SocketTransport).
            AllowSynchronousContinuations = true,
        });
    }

    public long Id { get; }

    /// <summary>Requests dispatched and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Environment.TickCount64 of the last request received or response sent.</summary>
    public long LastActivityTicks => Volatile.Read(ref _lastActivityTicks);

    /// <summary>Completes when both loops have ended and the transport is closed.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Runs the connection until the peer closes, an error closes it, or <see cref="BeginClose"/> drains it.</summary>
    public async Task RunAsync()
    {
        _transport.Start();
        Task sendLoop = SendLoopAsync();
        try
        {
            await ProcessLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Connection {ConnectionId} from {Remote}: processing failed; closing", Id, _transport.RemoteEndPoint);
            Abort();
        }
        finally
        {
            _pending.Writer.TryComplete();
            ReleaseFrame();
        }

        await sendLoop.ConfigureAwait(false);
        Abort();
        await _transport.DisposeAsync().ConfigureAwait(false);
        _connectionClosed.Dispose();
        _closed.TrySetResult();
    }

    /// <summary>
    /// Graceful close (broker shutdown): read no further requests, answer the ones already
    /// dispatched, then close. Handlers still running when <paramref name="drainDeadline"/>
    /// fires are cancelled and the connection is aborted.
    /// </summary>
    public void BeginClose(CancellationToken drainDeadline)
    {
        if (Interlocked.Exchange(ref _closeStarted, 1) != 0) return;
        _stopReading.Cancel();
        _transport.Input.CancelPendingRead();
        drainDeadline.Register(static state => ((KafkaConnection)state!).Abort(), this);
    }

    /// <summary>Closes now: pending handlers are cancelled, unsent responses dropped. Idempotent.</summary>
    public void Abort()
    {
        Interlocked.Exchange(ref _closeStarted, 1);
        try
        {
            _stopReading.Cancel();
            _connectionClosed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        try
        {
            _transport.Input.CancelPendingRead();
        }
        catch (InvalidOperationException)
        {
            // The reader was already completed.
        }

        _transport.Abort();
    }

    private async Task ProcessLoopAsync()
    {
        PipeReader input = _transport.Input;
        while (!_stopReading.IsCancellationRequested)
        {
            ReadResult result = await input.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled) break;
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool keepGoing = true;
            try
            {
                while (keepGoing && !_stopReading.IsCancellationRequested)
                {
                    if (!TryAssembleFrame(ref buffer, out bool invalid))
                    {
                        keepGoing = !invalid;
                        break;
                    }

                    Volatile.Write(ref _lastActivityTicks, Environment.TickCount64);
                    keepGoing = await DispatchFrameAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                // Everything assembled so far was copied out: consume it; the rest (under 4 bytes
                // of a size prefix) was examined and waits for more data.
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (!keepGoing)
            {
                Abort();
                return;
            }

            if (result.IsCompleted)
            {
                if (_frame is not null || buffer.Length > 0)
                {
                    _logger.LogDebug("Connection {ConnectionId}: peer closed in the middle of a request", Id);
                }

                return;
            }
        }
    }

    /// <summary>Copies input into the current frame; true when a whole frame is assembled.</summary>
    private bool TryAssembleFrame(ref ReadOnlySequence<byte> buffer, out bool invalid)
    {
        invalid = false;
        if (_frame is null)
        {
            if (buffer.Length < RequestFraming.SizePrefixBytes) return false;
            Span<byte> prefix = stackalloc byte[RequestFraming.SizePrefixBytes];
            buffer.Slice(0, RequestFraming.SizePrefixBytes).CopyTo(prefix);
            int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
            if (size < 0 || size > _options.SocketRequestMaxBytes)
            {
                // Kafka: "Invalid receive (size = N larger than M)" and the connection is closed.
                _logger.LogWarning("Connection {ConnectionId} from {Remote}: request size {Size} is invalid or larger than socket.request.max.bytes ({Max}); closing",
                    Id, _transport.RemoteEndPoint, size, _options.SocketRequestMaxBytes);
                invalid = true;
                return false;
            }

            buffer = buffer.Slice(RequestFraming.SizePrefixBytes);
            _frame = ArrayPool<byte>.Shared.Rent(size);
            _frameSize = size;
            _frameFilled = 0;
        }

        int take = (int)Math.Min(buffer.Length, _frameSize - _frameFilled);
        if (take > 0)
        {
            buffer.Slice(0, take).CopyTo(_frame.AsSpan(_frameFilled, take));
            _frameFilled += take;
            buffer = buffer.Slice(take);
        }

        return _frameFilled == _frameSize;
    }

    /// <summary>Parses and dispatches the assembled frame; false = close the connection.</summary>
    private async ValueTask<bool> DispatchFrameAsync()
    {
        long receivedTimestamp = Stopwatch.GetTimestamp();
        byte[] frame = _frame!;
        int frameSize = _frameSize;
        _frame = null; // ownership moves to the PendingRequest (or is returned below)
        var header = new RequestHeader();
        RequestParseStatus status = RequestParser.Parse(new ReadOnlyMemory<byte>(frame, 0, frameSize), header, _clientIds, out _, out IRequest? request);
        IApiHandler? handler = status == RequestParseStatus.Ok ? _registry.Get(header.RequestApiKey) : null;
        if (status == RequestParseStatus.Ok && handler is not null
            && header.RequestApiVersion >= handler.MinVersion && header.RequestApiVersion <= handler.MaxVersion)
        {
            if (!await AcquireSlotAsync().ConfigureAwait(false))
            {
                ArrayPool<byte>.Shared.Return(frame);
                return false;
            }

            var context = new RequestContext(header, Id, _transport.RemoteEndPoint, _listenerName);
            ValueTask<IApiMessage?> response;
            try
            {
                response = handler.HandleAsync(context, request!, _connectionClosed.Token);
            }
            catch (Exception e)
            {
                response = ValueTask.FromException<IApiMessage?>(e);
            }

            short responseHeaderVersion = ApiMessages.ResponseHeaderVersion(header.RequestApiKey, header.RequestApiVersion);
            return await EnqueueAsync(new PendingRequest(context, request, response, frame, responseHeaderVersion) { ReceivedTimestamp = receivedTimestamp }).ConfigureAwait(false);
        }

        ArrayPool<byte>.Shared.Return(frame);
        bool versionProblem = status == RequestParseStatus.UnsupportedVersion || (status == RequestParseStatus.Ok && handler is not null);
        if (versionProblem && header.RequestApiKey == ApiVersionsRequest.ApiKey)
        {
            // KIP-511: answer in v0 so that any client can read the error and our range.
            var context = new RequestContext(header, Id, _transport.RemoteEndPoint, _listenerName);
            header.RequestApiVersion = 0;
            var body = ErrorResponses.UnsupportedApiVersions(_registry);
            if (!await AcquireSlotAsync().ConfigureAwait(false)) return false;
            return await EnqueueAsync(new PendingRequest(context, null, ValueTask.FromResult<IApiMessage?>(body), null, 0) { ReceivedTimestamp = receivedTimestamp }).ConfigureAwait(false);
        }

        string reason = status switch
        {
            RequestParseStatus.MalformedHeader => "malformed request header",
            RequestParseStatus.UnknownApiKey => $"unknown api key {header.RequestApiKey}",
            RequestParseStatus.UnsupportedVersion => $"unsupported version {header.RequestApiVersion} of api key {header.RequestApiKey}",
            RequestParseStatus.MalformedBody => $"malformed body of api key {header.RequestApiKey} v{header.RequestApiVersion}",
            _ when handler is null => $"api key {header.RequestApiKey} ({ApiMessages.Get(header.RequestApiKey)?.Name}) is not served by this broker",
            _ => $"version {header.RequestApiVersion} of api key {header.RequestApiKey} is outside the advertised {handler.MinVersion}..{handler.MaxVersion}",
        };
        _logger.LogWarning("Connection {ConnectionId} from {Remote} (client {ClientId}, correlation {CorrelationId}): {Reason}; closing",
            Id, _transport.RemoteEndPoint, header.ClientId, header.CorrelationId, reason);
        return false;
    }

    /// <summary>
    /// Waits for an in-flight slot: while max.inflight.requests.per.connection requests are
    /// unanswered the processing loop stops here, stops reading, and the socket fills
    /// (backpressure). False when the connection closes meanwhile.
    /// </summary>
    private async ValueTask<bool> AcquireSlotAsync()
    {
        try
        {
            await _inFlightSlots.WaitAsync(_connectionClosed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }

        Interlocked.Increment(ref _inFlight);
        return true;
    }

    private void ReleaseSlot()
    {
        Interlocked.Decrement(ref _inFlight);
        _inFlightSlots.Release();
    }

    /// <summary>Queues a dispatched request (holding a slot) for the send loop; false when the connection is closing.</summary>
    private async ValueTask<bool> EnqueueAsync(PendingRequest pending)
    {
        try
        {
            // Never waits for room: the slot taken before dispatch bounds the queue.
            await _pending.Writer.WriteAsync(pending, _connectionClosed.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException or ObjectDisposedException)
        {
            ReleaseSlot();
            // The handler may still be running over slices of the frame: return it only when the handler is done.
            _ = ObserveAsync(pending);
            return false;
        }
    }

    private async Task SendLoopAsync()
    {
        ChannelReader<PendingRequest> reader = _pending.Reader;
        var batch = new List<ResponseFrame>();
        RequestContext? closing = null;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                int batchBytes = 0;
                while (batchBytes < _options.MaxSendBatchBytes && reader.TryPeek(out PendingRequest? next))
                {
                    // Send what is ready before waiting for a slow response behind it.
                    if (batch.Count > 0 && !next.Response.IsCompleted) break;
                    reader.TryRead(out _);
                    ResponseFrame? frame = await CompleteAsync(next).ConfigureAwait(false);
                    ReleaseSlot();
                    _requestMetrics?.Record(next.Context.ApiKey, next.Context.ApiVersion, next.ReceivedTimestamp);
                    if (frame is not null)
                    {
                        batch.Add(frame);
                        batchBytes += frame.FrameBytes;
                    }

                    if (next.Context.CloseConnectionReason is not null)
                    {
                        closing = next.Context;
                        break;
                    }
                }

                if (batch.Count > 0)
                {
                    await _transport.SendAsync(batch, _connectionClosed.Token).ConfigureAwait(false);
                    Volatile.Write(ref _lastActivityTicks, Environment.TickCount64);
                    DisposeAll(batch);
                }

                if (closing is not null)
                {
                    // Kafka logs this at info ("Closing connection due to error during produce request ... with ack=0").
                    _logger.LogInformation("Connection {ConnectionId} from {Remote} (client {ClientId}, correlation {CorrelationId}, api key {ApiKey} v{ApiVersion}): {Reason}; closing",
                        Id, _transport.RemoteEndPoint, closing.ClientId, closing.CorrelationId, closing.ApiKey, closing.ApiVersion, closing.CloseConnectionReason);
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("Connection {ConnectionId}: send failed ({Message}); closing", Id, e.Message);
        }
        catch (HandlerFailedException e)
        {
            _logger.LogError(e.InnerException, "Connection {ConnectionId} from {Remote}: {Message}; closing", Id, _transport.RemoteEndPoint, e.Message);
        }
        finally
        {
            DisposeAll(batch);
            Abort();
            // Release what is still queued (their handlers see the cancelled token).
            while (reader.TryRead(out PendingRequest? left))
            {
                ReleaseSlot();
                await ObserveAsync(left).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Awaits the handler and serialises its response; null when there is nothing to send (acks=0).</summary>
    private async ValueTask<ResponseFrame?> CompleteAsync(PendingRequest pending)
    {
        RequestContext context = pending.Context;
        try
        {
            IApiMessage? response;
            try
            {
                response = await pending.Response.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_connectionClosed.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                response = ErrorResponseFor(pending, e);
            }

            if (response is null) return null;
            bool spliced = _transport.SupportsSplicedRecords;
            try
            {
                return ResponseFrame.Create(response, context.ApiVersion, pending.ResponseHeaderVersion, context.CorrelationId, spliced);
            }
            catch (Exception e)
            {
                spliced = false; // no frame owns the regions
                throw new HandlerFailedException($"cannot write {response.GetType().Name} v{context.ApiVersion}", e);
            }
            finally
            {
                // Copied into the frame (or never written): the segment leases go back now, not at GC.
                if (!spliced) ResponseFrame.ReleaseRecords(response);
            }
        }
        finally
        {
            // After the response is written: it may have referenced request memory.
            pending.ReleaseFrame();
        }
    }

    /// <summary>
    /// Kafka's KafkaApis.handleError: log, then answer the request with UNKNOWN_SERVER_ERROR. An
    /// acks=0 produce has no error response (ProduceRequest.getErrorResponse returns null there), so
    /// it closes the connection, as does a request whose error response cannot be built.
    /// </summary>
    private IApiMessage ErrorResponseFor(PendingRequest pending, Exception e)
    {
        RequestContext context = pending.Context;
        string apiName = ApiMessages.Get(context.ApiKey)?.Name ?? context.ApiKey.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _logger.LogError(e, "Connection {ConnectionId} from {Remote}: unexpected error handling {ApiName} (api key {ApiKey} v{ApiVersion}) from client {ClientId}, correlation {CorrelationId}",
            Id, _transport.RemoteEndPoint, apiName, context.ApiKey, context.ApiVersion, context.ClientId, context.CorrelationId);
        if (pending.Request is ProduceRequest { Acks: 0 })
        {
            throw new HandlerFailedException($"acks=0 produce (correlation {context.CorrelationId}) failed and has no response to carry the error", null);
        }

        IResponse? response = pending.Request is null ? null : ErrorResponseBuilder.Build(pending.Request, context.ApiVersion, ErrorCode.UnknownServerError);
        return response ?? throw new HandlerFailedException($"no error response for {apiName} v{context.ApiVersion} (correlation {context.CorrelationId})", null);
    }

    private static async ValueTask ObserveAsync(PendingRequest pending)
    {
        try
        {
            // Never sent: give back the segment leases of its file regions.
            ResponseFrame.ReleaseRecords(await pending.Response.ConfigureAwait(false));
        }
        catch
        {
            // The connection is gone; the outcome no longer matters.
        }
        finally
        {
            pending.ReleaseFrame();
        }
    }

    private static void DisposeAll(List<ResponseFrame> batch)
    {
        foreach (ResponseFrame f in batch) f.Dispose();
        batch.Clear();
    }

    private void ReleaseFrame()
    {
        byte[]? frame = _frame;
        _frame = null;
        if (frame is not null) ArrayPool<byte>.Shared.Return(frame);
    }

    // Inner is null when the handler's exception was already logged.
    private sealed class HandlerFailedException(string message, Exception? inner) : Exception(message, inner);
}
