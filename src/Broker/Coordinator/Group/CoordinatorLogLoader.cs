using System.Buffers;
using Broker.Storage;

namespace Broker.Coordinator.Group;

/// <summary>
/// Reads a __consumer_offsets partition from its log start to its log end offset, in chunks of
/// whole batches, and decodes the group records (the load half of any ICoordinatorLog over a
/// PartitionLog). Kafka's CoordinatorLoaderImpl does the same with a 5 MB read buffer.
/// </summary>
public static class CoordinatorLogLoader
{
    private const int ReadChunkBytes = 4 * 1024 * 1024;

    public static IEnumerable<GroupRecord> ReadAll(PartitionLog log, CancellationToken cancellationToken)
    {
        long offset = log.LogStartOffset;
        long end = log.LogEndOffset;
        var decoded = new List<GroupRecord>();
        while (offset < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = log.Read(offset, ReadChunkBytes, end, minOneBatch: true);
            if (read.Error != Broker.Protocol.ErrorCode.None)
                throw new InvalidDataException($"Reading {log.TopicPartition} at {offset} failed: {read.Error}");
            if (read.Records is null) yield break;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(read.Records.SizeInBytes);
            long next;
            try
            {
                var span = buffer.AsSpan(0, read.Records.SizeInBytes);
                read.Records.CopyTo(span);
                decoded.Clear();
                next = CoordinatorRecordCodec.DecodeBatches(span, decoded);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                read.Records.Dispose(); // copied: the segment lease goes back now, not at GC
            }
            if (next <= offset) yield break; // no whole batch could be read: stop rather than spin
            foreach (var record in decoded) yield return record;
            offset = next;
        }
    }
}
