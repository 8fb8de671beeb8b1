using Broker.Protocol.Wire;
using Broker.Storage;

namespace Broker.Fetch;

/// <summary>
/// A segment file region that the network must copy rather than send with sendfile.
/// Workaround: the socket transport sends <see cref="FileRecords"/> through
/// SendPacketsElement(FileStream), which requires a handle opened for asynchronous I/O, and the
/// storage opens segment handles synchronously, so every sendfile attempt closed the connection.
/// <see cref="ForResponse"/> passes regions with an asynchronous handle through unchanged (zero
/// copy) and wraps the others in this type, which the transport copies with positional reads.
/// Remove it once the transport or the storage handles synchronous handles.
/// </summary>
internal sealed class BufferedFileRecords(FileRecords inner) : BaseRecords, IDisposable
{
    /// <summary>Gives back the wrapped region's segment lease.</summary>
    public void Dispose() => inner.Dispose();

    public override int SizeInBytes => inner.SizeInBytes;

    public override void CopyTo(Span<byte> destination) => inner.CopyTo(destination);

    /// <summary>The records to put in a fetch response.</summary>
    public static BaseRecords ForResponse(FileRecords records) =>
        records.Handle.IsAsync ? records : new BufferedFileRecords(records);
}
