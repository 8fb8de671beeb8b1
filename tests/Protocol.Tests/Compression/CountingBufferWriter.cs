using System.Buffers;

namespace Broker.Protocol.Tests.Compression;

/// <summary>Counts bytes written and discards them, reusing one buffer: proves a codec streams.</summary>
internal sealed class CountingBufferWriter : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[64 * 1024];

    public long Written { get; private set; }

    public void Advance(int count) => Written += count;

    public Memory<byte> GetMemory(int sizeHint = 0) => Grow(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Grow(sizeHint).Span;

    private Memory<byte> Grow(int sizeHint)
    {
        if (sizeHint > _buffer.Length)
        {
            _buffer = new byte[sizeHint];
        }

        return _buffer;
    }
}
