using System.IO.Pipelines;
using System.Net;

namespace Broker.Network;

/// <summary>
/// The seam between a Kafka connection and its bytes: sockets in production, memory in tests
/// and benchmarks (<see cref="MemoryTransport"/>). Input is a PipeReader the connection parses
/// with the consumed/examined discipline; output is whole response frames, so a socket
/// transport can send spliced file regions with sendfile.
/// </summary>
public interface IConnectionTransport : IAsyncDisposable
{
    PipeReader Input { get; }

    EndPoint? RemoteEndPoint { get; }

    /// <summary>True when spliced records can be sent from their files (plain TCP); false makes responses copy them.</summary>
    bool SupportsSplicedRecords { get; }

    /// <summary>Starts moving bytes (the socket receive loop). Called once.</summary>
    void Start();

    /// <summary>Sends frames in order. Throws when the peer is gone.</summary>
    ValueTask SendAsync(IReadOnlyList<ResponseFrame> frames, CancellationToken cancellationToken);

    /// <summary>Closes the connection now; pending sends and reads fail. Idempotent.</summary>
    void Abort();
}
