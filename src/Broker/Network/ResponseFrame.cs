using System.Buffers;
using System.Diagnostics;
using Broker.Protocol;
using Broker.Protocol.Framing;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Network;

/// <summary>
/// One serialised response: size prefix, header and body in a pooled buffer, plus the records
/// that were spliced out of it (file regions to send with sendfile). The buffer has exactly
/// one owner: the connection's send loop, which returns it with <see cref="Dispose"/> after the
/// transport has sent it.
/// </summary>
public sealed class ResponseFrame : IDisposable
{
    private byte[]? _buffer;

    private ResponseFrame(byte[] buffer, int length, List<RecordsSplice>? splices, int frameBytes)
    {
        _buffer = buffer;
        Length = length;
        Splices = splices;
        FrameBytes = frameBytes;
    }

    /// <summary>The written bytes; spliced records are not in here.</summary>
    public ReadOnlyMemory<byte> Buffer => new(_buffer ?? throw new ObjectDisposedException(nameof(ResponseFrame)), 0, Length);

    public int Length { get; }

    /// <summary>Records to insert at their positions in <see cref="Buffer"/>, in increasing position; null when none.</summary>
    public List<RecordsSplice>? Splices { get; }

    /// <summary>Total bytes on the wire (buffer plus spliced records).</summary>
    public int FrameBytes { get; }

    /// <summary>
    /// Serialises a response. The size is computed once, the buffer rented at exactly that size,
    /// and the writer never grows (Protocol's KafkaWriter contract). With
    /// <paramref name="spliceRecords"/> false every records field is copied (TLS or in-memory transports).
    /// </summary>
    public static ResponseFrame Create(IMessage body, short apiVersion, short headerVersion, int correlationId, bool spliceRecords)
    {
        int bodySize = body.ComputeSize(apiVersion);
        int headerSize = ResponseFraming.HeaderSize(headerVersion);
        int frameBytes = checked(RequestFraming.SizePrefixBytes + headerSize + bodySize);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(frameBytes);
        List<RecordsSplice>? splices = spliceRecords ? new List<RecordsSplice>(0) : null;
        int written;
        try
        {
            var writer = new KafkaWriter(buffer.AsSpan(0, frameBytes), splices);
            writer.WriteInt32(headerSize + bodySize);
            ResponseFraming.WriteHeader(ref writer, correlationId, headerVersion);
            body.Write(ref writer, apiVersion);
            written = writer.Position;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (splices is { Count: 0 }) splices = null;
        int splicedBytes = 0;
        if (splices is not null)
        {
            foreach (RecordsSplice s in splices) splicedBytes += s.Records.SizeInBytes;
        }

        // ComputeSize must account for every byte the writer produced or spliced.
        if (written + splicedBytes != frameBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new InvalidOperationException($"{body.GetType().Name} v{apiVersion}: ComputeSize said {frameBytes} bytes, wrote {written} plus {splicedBytes} spliced");
        }

        return new ResponseFrame(buffer, written, splices, frameBytes);
    }

    /// <summary>Copies the whole frame, spliced records included, into one array (tests, TLS).</summary>
    public byte[] ToArray()
    {
        var result = new byte[FrameBytes];
        CopyTo(result);
        return result;
    }

    public void CopyTo(Span<byte> destination)
    {
        Debug.Assert(destination.Length >= FrameBytes);
        ReadOnlySpan<byte> buffer = Buffer.Span;
        int from = 0;
        int to = 0;
        if (Splices is not null)
        {
            foreach (RecordsSplice s in Splices)
            {
                buffer[from..s.Position].CopyTo(destination[to..]);
                to += s.Position - from;
                from = s.Position;
                s.Records.CopyTo(destination.Slice(to, s.Records.SizeInBytes));
                to += s.Records.SizeInBytes;
            }
        }

        buffer[from..].CopyTo(destination[to..]);
    }

    /// <summary>
    /// Gives back the segment leases of the file regions in a response that will not be (or
    /// no longer needs to be) sent from the files: copied into the frame (TLS, in-memory
    /// transports), failed to serialise, or dropped because the connection closed. Idempotent.
    /// </summary>
    public static void ReleaseRecords(IApiMessage? response)
    {
        if (response is not FetchResponse fetch) return;
        foreach (FetchResponse.FetchableTopicResponse topic in fetch.Responses)
        {
            foreach (FetchResponse.PartitionData partition in topic.Partitions)
            {
                (partition.Records as IDisposable)?.Dispose();
            }
        }
    }

    public void Dispose()
    {
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);

        // Sent: file regions give back their segment leases, so the storage's open-file bound
        // can close those files again (Storage FileRecords).
        if (buffer is not null && Splices is not null)
        {
            foreach (RecordsSplice s in Splices) (s.Records as IDisposable)?.Dispose();
        }
    }
}
