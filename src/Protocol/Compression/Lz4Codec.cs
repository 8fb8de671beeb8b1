using System.Buffers;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;

namespace Broker.Protocol.Compression;

/// <summary>
/// LZ4 in the standard LZ4 frame format (magic 0x184D2204), which Kafka uses for magic v1 and
/// v2 (KIP-57 fixed the header checksum that magic v0's "KafkaLZ4" variant got wrong; that
/// variant is not supported). Written with independent 64 KiB blocks and no checksums, as
/// Java's KafkaLZ4BlockOutputStream does; Java's reader does not accept linked blocks, while
/// librdkafka writes them, so both are read.
/// </summary>
internal sealed class Lz4Codec : ICompressionCodec
{
    private static readonly LZ4EncoderSettings EncoderSettings = new()
    {
        ChainBlocks = false,
        BlockSize = 64 * 1024,
        ContentChecksum = false,
        BlockChecksum = false,
        CompressionLevel = LZ4Level.L00_FAST,
    };

    public CompressionType Type => CompressionType.Lz4;

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination) =>
        LZ4Frame.Encode(source, destination, EncoderSettings);

    public ErrorCode Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedBytes)
    {
        var bounded = new BoundedBufferWriter(destination, maxDecompressedBytes);
        try
        {
            LZ4Frame.Decode(source, bounded, 0);
            return ErrorCode.None;
        }
        catch (Exception e) when (e is BoundedBufferWriter.LimitExceededException or InvalidDataException or ArgumentException or IOException or InvalidOperationException or IndexOutOfRangeException or NotImplementedException or NotSupportedException)
        {
            return ErrorCode.CorruptMessage;
        }
    }

    /// <summary>Refuses to hand out more than the budget; the decoder's call then unwinds.</summary>
    private sealed class BoundedBufferWriter(IBufferWriter<byte> inner, int maxBytes) : IBufferWriter<byte>
    {
        private long _written;

        public void Advance(int count)
        {
            _written += count;
            if (_written > maxBytes)
            {
                throw new LimitExceededException();
            }

            inner.Advance(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            CheckHint(sizeHint);
            return inner.GetMemory(sizeHint);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            CheckHint(sizeHint);
            return inner.GetSpan(sizeHint);
        }

        private void CheckHint(int sizeHint)
        {
            // The frame decoder asks for a whole block at a time (at most 4 MiB), so a bomb is
            // caught one block past the budget at worst.
            if (_written + sizeHint > (long)maxBytes + (4 * 1024 * 1024))
            {
                throw new LimitExceededException();
            }
        }

        internal sealed class LimitExceededException : Exception
        {
        }
    }
}
