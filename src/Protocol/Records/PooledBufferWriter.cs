using System.Buffers;
using System.Diagnostics;

namespace Broker.Protocol.Records;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="ArrayPool{T}.Shared"/>.
/// It has exactly one owner: whoever holds it disposes it, which returns the array; the written
/// bytes must not be used afterwards. Used for built batches and decompressed records.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumCapacity = 256;

    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity = MinimumCapacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, MinimumCapacity));
    }

    /// <summary>Bytes written so far.</summary>
    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>The written bytes, writable, e.g. to patch a header after the body is known.</summary>
    public Span<byte> WrittenSpanMutable => _buffer.AsSpan(0, _written);

    public Memory<byte> WrittenMemoryMutable => _buffer.AsMemory(0, _written);

    /// <summary>Forgets the written bytes but keeps the rented array.</summary>
    public void Clear() => _written = 0;

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureFree(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureFree(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Appends <paramref name="data"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        _written += data.Length;
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void EnsureFree(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        long newSize = Math.Max((long)_buffer.Length * 2, (long)_written + needed);
        if (newSize > Array.MaxLength)
        {
            newSize = Array.MaxLength;
            if (newSize - _written < needed)
            {
                throw new OutOfMemoryException("PooledBufferWriter cannot grow past Array.MaxLength.");
            }
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent((int)newSize);
        _buffer.AsSpan(0, _written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
        Debug.Assert(_buffer.Length - _written >= needed);
    }
}
