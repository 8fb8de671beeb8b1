using System.Buffers;
using System.Buffers.Binary;
using Broker.Protocol.Records;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>The header fields of one v2 batch in a segment file, with its position (parsed once, no allocation).</summary>
internal readonly struct BatchInfo
{
    public BatchInfo(ReadOnlySpan<byte> header, long position)
    {
        var view = new RecordBatchHeader(header);
        Position = position;
        BaseOffset = view.BaseOffset;
        SizeInBytes = view.SizeInBytes;
        LastOffset = view.LastOffset;
        PartitionLeaderEpoch = view.PartitionLeaderEpoch;
        Magic = view.Magic;
        MaxTimestamp = view.MaxTimestamp;
        ProducerId = view.ProducerId;
        ProducerEpoch = view.ProducerEpoch;
        BaseSequence = view.BaseSequence;
        LastSequence = view.LastSequence;
        IsTransactional = view.IsTransactional;
        IsControl = view.IsControl;
        RecordCount = view.RecordCount;
        Attributes = view.Attributes;
    }

    public short Attributes { get; }

    public bool IsCompressed => (Attributes & RecordBatchHeader.CompressionCodecMask) != 0;

    public bool IsLogAppendTime => (Attributes & RecordBatchHeader.TimestampTypeMask) != 0;

    public long Position { get; }

    public long BaseOffset { get; }

    public long LastOffset { get; }

    public int SizeInBytes { get; }

    public int PartitionLeaderEpoch { get; }

    public byte Magic { get; }

    public long MaxTimestamp { get; }

    public long ProducerId { get; }

    public short ProducerEpoch { get; }

    public int BaseSequence { get; }

    public int LastSequence { get; }

    public bool IsTransactional { get; }

    public bool IsControl { get; }

    public int RecordCount { get; }

    public long NextPosition => Position + SizeInBytes;
}

/// <summary>Why a scan stopped.</summary>
internal enum ScanStatus
{
    /// <summary>Reached the end of the range on a batch boundary.</summary>
    End,

    /// <summary>Fewer bytes than a header, or a batch running past the end: a torn write.</summary>
    Truncated,

    /// <summary>Impossible batch length or magic: corruption.</summary>
    Corrupt,
}

/// <summary>
/// Forward scan over the batches of a segment file between two positions, reading headers in
/// chunks through a pooled buffer so that small batches cost no syscall each. When the previous
/// batch was larger than the buffer, only the next header is read (big batches would otherwise
/// make every refill copy a whole buffer of payload for 61 useful bytes). Not thread-safe; one
/// scan per call site, disposed to return the buffer.
/// </summary>
internal ref struct BatchScanner
{
    private readonly SafeFileHandle _handle;
    private readonly long _end;
    private byte[] _buffer;
    private long _bufferPosition;
    private int _bufferLength;
    private long _position;
    private bool _lastWasLarge;

    public BatchScanner(SafeFileHandle handle, long start, long end, int bufferSize = 16 * 1024)
    {
        _handle = handle;
        _position = start;
        _end = end;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, RecordBatchHeader.HeaderSize));
        _bufferPosition = 0;
        _bufferLength = 0;
        Status = ScanStatus.End;
    }

    /// <summary>Position of the next batch to be returned (after the end: where the scan stopped).</summary>
    public readonly long Position => _position;

    public ScanStatus Status { get; private set; }

    /// <summary>Next batch header; false at the end of the range or on a torn/corrupt batch (see <see cref="Status"/>).</summary>
    public bool Next(out BatchInfo batch)
    {
        batch = default;
        long remaining = _end - _position;
        if (remaining <= 0)
        {
            Status = ScanStatus.End;
            return false;
        }

        if (remaining < RecordBatchHeader.HeaderSize)
        {
            Status = ScanStatus.Truncated;
            return false;
        }

        if (!Ensure(_position, RecordBatchHeader.HeaderSize, _lastWasLarge ? RecordBatchHeader.HeaderSize : _buffer.Length))
        {
            Status = ScanStatus.Truncated;
            return false;
        }

        ReadOnlySpan<byte> header = _buffer.AsSpan((int)(_position - _bufferPosition), RecordBatchHeader.HeaderSize);
        int batchLength = BinaryPrimitives.ReadInt32BigEndian(header.Slice(RecordBatchHeader.BatchLengthOffset));
        if (batchLength < RecordBatchHeader.HeaderSize - RecordBatchHeader.LogOverhead || header[RecordBatchHeader.MagicOffset] != RecordBatchHeader.MagicV2)
        {
            Status = ScanStatus.Corrupt;
            return false;
        }

        long size = (long)batchLength + RecordBatchHeader.LogOverhead;
        if (size > remaining)
        {
            Status = ScanStatus.Truncated;
            return false;
        }

        batch = new BatchInfo(header, _position);
        _lastWasLarge = size >= _buffer.Length;
        _position += size;
        return true;
    }

    /// <summary>
    /// The whole bytes of <paramref name="batch"/> (just returned by <see cref="Next"/>), reading
    /// them into the buffer when needed; valid until the next call.
    /// </summary>
    public ReadOnlySpan<byte> ReadWhole(in BatchInfo batch)
    {
        if (!Ensure(batch.Position, batch.SizeInBytes, Math.Max(batch.SizeInBytes, _buffer.Length)))
        {
            return ReadOnlySpan<byte>.Empty;
        }

        return _buffer.AsSpan((int)(batch.Position - _bufferPosition), batch.SizeInBytes);
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = Array.Empty<byte>();
        }
    }

    private bool Ensure(long position, int needed, int readSize)
    {
        if (position >= _bufferPosition && position + needed <= _bufferPosition + _bufferLength)
        {
            return true;
        }

        if (readSize > _buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(readSize);
        }

        int toRead = (int)Math.Min(Math.Max(readSize, needed), _end - position);
        int read = 0;
        while (read < toRead)
        {
            int n = RandomAccess.Read(_handle, _buffer.AsSpan(read, toRead - read), position + read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        _bufferPosition = position;
        _bufferLength = read;
        return read >= needed;
    }
}
