using Broker.Protocol.Wire;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// A region of a segment file handed out by a fetch (Kafka <c>FileRecords</c> slice): whole
/// record batches from <see cref="Position"/> for <see cref="SizeInBytes"/> bytes. The network
/// layer sends it with sendfile on plain TCP (<see cref="Handle"/>, <see cref="Position"/>);
/// otherwise <see cref="CopyTo"/> copies it with positional reads. The handle stays valid while
/// the segment exists; deleted segments are kept for file.delete.delay.ms (as Kafka does) so a
/// region handed out just before a retention pass can still be sent.
/// </summary>
public sealed class FileRecords : BaseRecords
{
    private readonly int _length;

    public FileRecords(SafeFileHandle handle, long position, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Handle = handle;
        Position = position;
        _length = length;
    }

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
}
