using System.Buffers;

namespace Broker.Protocol.Compression;

/// <summary>Reads a decompressing stream into a buffer writer without exceeding a byte budget.</summary>
internal static class BoundedStreamCopy
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>
    /// Copies until the stream ends. Each read asks for at most one byte more than the budget
    /// left, so a bomb is detected after at most maxDecompressedBytes + 1 bytes of output.
    /// </summary>
    public static ErrorCode Copy(Stream source, IBufferWriter<byte> destination, int maxDecompressedBytes)
    {
        long total = 0;
        while (true)
        {
            int room = (int)Math.Min(ChunkBytes, (long)maxDecompressedBytes - total + 1);
            Span<byte> span = destination.GetSpan(room).Slice(0, room);
            int read = source.Read(span);
            if (read == 0)
            {
                return ErrorCode.None;
            }

            total += read;
            if (total > maxDecompressedBytes)
            {
                return ErrorCode.CorruptMessage;
            }

            destination.Advance(read);
        }
    }
}

/// <summary>A write-only stream appending to a buffer writer (for stream-based compressors).</summary>
internal sealed class BufferWriterStream(IBufferWriter<byte> destination) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer) => destination.Write(buffer);

    public override void Write(byte[] buffer, int offset, int count) => destination.Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => destination.Write([value]);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
