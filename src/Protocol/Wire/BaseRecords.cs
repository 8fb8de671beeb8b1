namespace Broker.Protocol.Wire;

/// <summary>
/// The value of a <c>records</c> field: an opaque run of record batches. The protocol layer never
/// looks inside; <see cref="KafkaWriter.WriteRecords"/> either copies the bytes or, for records
/// that live elsewhere (a file region owned by Storage), leaves a splice for the network layer.
/// </summary>
public abstract class BaseRecords
{
    /// <summary>Size of the records on the wire, without the length prefix.</summary>
    public abstract int SizeInBytes { get; }

    /// <summary>Copies the records into <paramref name="destination"/> (exactly SizeInBytes long).</summary>
    public abstract void CopyTo(Span<byte> destination);
}

/// <summary>Records held in memory; a slice of a request buffer when read (no copy).</summary>
public sealed class MemoryRecords(ReadOnlyMemory<byte> buffer) : BaseRecords
{
    public static readonly MemoryRecords Empty = new(ReadOnlyMemory<byte>.Empty);

    public ReadOnlyMemory<byte> Buffer { get; } = buffer;

    public override int SizeInBytes => Buffer.Length;

    public override void CopyTo(Span<byte> destination) => Buffer.Span.CopyTo(destination);
}

/// <summary>
/// Records that were not copied into the response buffer: the network layer must send
/// <see cref="Records"/> at <see cref="Position"/> (an offset into the written buffer), e.g. with sendfile.
/// </summary>
public readonly record struct RecordsSplice(int Position, BaseRecords Records);

/// <summary>
/// A tagged field this code does not know (KIP-482): kept as raw bytes so that it survives a
/// read/write round trip unchanged.
/// </summary>
public readonly record struct RawTaggedField(int Tag, byte[] Data);

/// <summary>
/// Thrown when a message cannot be written at the requested version: a non-default value in a field
/// the version lacks (unless the field is ignorable), as Kafka's generated code does.
/// </summary>
public sealed class UnsupportedVersionException(string message) : Exception(message);
