using Broker.Protocol.Wire;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// A region of a segment file handed out by a fetch (Kafka <c>FileRecords</c> slice): whole
/// record batches from <see cref="Position"/> for <see cref="SizeInBytes"/> bytes. The network
/// layer sends it with sendfile on plain TCP (<see cref="Handle"/>, <see cref="Position"/>);
/// otherwise <see cref="CopyTo"/> copies it with positional reads.
///
/// A region read from a log holds a lease on its segment: the segment's file stays open (the
/// open-handle bound of <see cref="SegmentHandleCache"/> does not close it, nor does deletion)
/// until <see cref="Dispose"/>, which the owner calls once the bytes are sent or copied. A region
/// that is never disposed gives its lease back when it is garbage collected (later, not unsafely:
/// nothing can use the handle once the region is unreachable).
/// </summary>
public sealed class FileRecords : BaseRecords, IDisposable
{
    private readonly int _length;
    private LogSegment? _leaseOwner;

    /// <summary>A region of a file the caller keeps open (no lease).</summary>
    public FileRecords(SafeFileHandle handle, long position, int length)
        : this(null, handle, position, length)
    {
    }

    /// <summary>A region holding one lease on <paramref name="leaseOwner"/>, given back by <see cref="Dispose"/>.</summary>
    internal FileRecords(LogSegment? leaseOwner, SafeFileHandle handle, long position, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Handle = handle;
        Position = position;
        _length = length;
        _leaseOwner = leaseOwner;
        if (leaseOwner is null)
        {
            GC.SuppressFinalize(this);
        }
    }

    ~FileRecords() => ReleaseLease();

    public SafeFileHandle Handle { get; }

    public long Position { get; }

    public override int SizeInBytes => _length;

    /// <summary>Copies the region; throws IOException when the file became shorter (truncated meanwhile).</summary>
    public override void CopyTo(Span<byte> destination)
    {
        if (destination.Length < _length)
        {
            throw new ArgumentException($"Destination has {destination.Length} bytes, the region {_length}.", nameof(destination));
        }

        int read = 0;
        while (read < _length)
        {
            int n = RandomAccess.Read(Handle, destination.Slice(read, _length - read), Position + read);
            if (n == 0)
            {
                throw new IOException($"File region ended after {read} of {_length} bytes (segment truncated or deleted).");
            }

            read += n;
        }
    }

    /// <summary>Gives the segment lease back: the region must not be read or sent afterwards. Idempotent.</summary>
    public void Dispose()
    {
        ReleaseLease();
        GC.SuppressFinalize(this);
    }

    private void ReleaseLease() => Interlocked.Exchange(ref _leaseOwner, null)?.ReleaseLease();
}
