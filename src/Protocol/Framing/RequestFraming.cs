using System.Buffers;
using System.Buffers.Binary;

namespace Broker.Protocol.Framing;

/// <summary>
/// Thrown when a request's 4-byte size prefix is negative or larger than socket.request.max.bytes.
/// Kafka closes the connection in that case (InvalidReceiveException); the network layer should too.
/// </summary>
public sealed class InvalidFrameException(string message, int size) : Exception(message)
{
    /// <summary>The size the client announced.</summary>
    public int Size { get; } = size;
}

/// <summary>
/// Splits a byte stream into Kafka request frames: a big-endian int32 size, then that many bytes
/// (header + body). Pipe discipline (Kestrel style): on true, <c>buffer</c> has been advanced past
/// the frame, so the caller consumes up to <c>buffer.Start</c>; on false nothing was consumed and
/// everything was examined, so the caller calls <c>AdvanceTo(buffer.Start, buffer.End)</c> and waits
/// for more data.
/// </summary>
public static class RequestFraming
{
    public const int SizePrefixBytes = 4;

    /// <summary>
    /// Returns true and the frame (without its size prefix) when a whole frame is buffered.
    /// The size is checked against <paramref name="maxFrameBytes"/> as soon as its 4 bytes arrive,
    /// before any of the frame is buffered, so a hostile size cannot make the pipe grow.
    /// </summary>
    /// <exception cref="InvalidFrameException">size &lt; 0 or &gt; maxFrameBytes.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < SizePrefixBytes) return false;
        int size = ReadSize(buffer);
        if (size < 0) throw new InvalidFrameException($"Invalid request size {size}", size);
        if (size > maxFrameBytes)
            throw new InvalidFrameException($"Request size {size} is larger than socket.request.max.bytes ({maxFrameBytes})", size);
        if (buffer.Length - SizePrefixBytes < size) return false;
        frame = buffer.Slice(SizePrefixBytes, size);
        buffer = buffer.Slice(frame.End);
        return true;
    }

    private static int ReadSize(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= SizePrefixBytes) return BinaryPrimitives.ReadInt32BigEndian(first);
        Span<byte> size = stackalloc byte[SizePrefixBytes];
        buffer.Slice(0, SizePrefixBytes).CopyTo(size);
        return BinaryPrimitives.ReadInt32BigEndian(size);
    }

    /// <summary>
    /// The frame as one contiguous block for <see cref="Wire.KafkaReader"/>: the frame's own memory
    /// when it is a single segment, else a copy into a buffer rented from <paramref name="pool"/>
    /// (returned in <paramref name="rented"/>; the caller returns it once the request is done,
    /// since records in the parsed request are slices of it).
    /// </summary>
    public static ReadOnlyMemory<byte> ToContiguous(in ReadOnlySequence<byte> frame, ArrayPool<byte> pool, out byte[]? rented)
    {
        if (frame.IsSingleSegment)
        {
            rented = null;
            return frame.First;
        }
        int length = checked((int)frame.Length);
        rented = pool.Rent(length);
        frame.CopyTo(rented);
        return new ReadOnlyMemory<byte>(rented, 0, length);
    }
}
