using System.Buffers.Binary;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Records;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage.Cleaner;

/// <summary>
/// The record-level work of log compaction (Kafka <c>Cleaner</c>): building the offset map of the
/// dirty section and copying a sealed segment into <c>&lt;base&gt;.log.cleaned</c> with only the
/// records to keep. Offsets never change: a rewritten batch keeps its base offset, last offset
/// delta, producer fields and leader epoch (Kafka overrides the last offset the same way), and
/// its retained records keep their bytes; only the record count, max timestamp, length and CRC
/// are recomputed and the records recompressed with the batch's codec. A batch whose records all
/// survive is copied as is; one whose records are all removed disappears.
///
/// Kept whatever their keys: control batches and transactional batches (this broker does not
/// track aborted transactions yet), records without a key, and batches that cannot be decoded.
/// Threads: the cleaner's; segments are read under a lease while the log keeps appending.
/// </summary>
internal static class SegmentCleaner
{
    public const string CleanedSuffix = ".cleaned";
    public const string SwapSuffix = ".swap";

    /// <summary>Adds every keyed record of <paramref name="segment"/> at or above <paramref name="fromOffset"/> to the map.</summary>
    public static void BuildOffsetMap(LogSegment segment, long fromOffset, OffsetMap map)
    {
        using SegmentLease lease = segment.Acquire();
        using var scratch = new PooledBufferWriter();
        var scanner = new BatchScanner(lease.Handle, 0, segment.Size, 64 * 1024);
        try
        {
            while (scanner.Next(out BatchInfo info))
            {
                if (info.LastOffset < fromOffset || info.IsControl || info.IsTransactional)
                {
                    continue;
                }

                ReadOnlySpan<byte> batch = scanner.ReadWhole(info);
                if (RecordBatchRecords.TryGetRecords(batch, scratch, RecordTimestamps.MaxDecompressedBytes, out ReadOnlySpan<byte> records) != ErrorCode.None)
                {
                    continue;
                }

                foreach (Record record in new RecordEnumerator(records))
                {
                    long offset = record.Offset(info.BaseOffset);
                    if (offset >= fromOffset && !record.IsKeyNull)
                    {
                        map.Put(record.Key, offset);
                    }
                }
            }
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>
    /// Writes the records to keep of <paramref name="count"/> neighbouring segments from
    /// <paramref name="segments"/>[<paramref name="from"/>] into one <c>.log.cleaned</c> named after
    /// the first, and fsyncs it. A record goes when the map holds a later offset for its key, or when
    /// it is a tombstone and <paramref name="dropTombstones"/> says so for its segment.
    /// </summary>
    public static CleanedSegment WriteCleaned(LogSegment[] segments, int from, int count, OffsetMap map, bool[] dropTombstones)
    {
        string cleanedPath = segments[from].LogPath + CleanedSuffix;
        using var scratch = new PooledBufferWriter();
        using var retained = new PooledBufferWriter();
        using var rewritten = new PooledBufferWriter();
        using SafeFileHandle output = File.OpenHandle(cleanedPath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        long written = 0;
        long sizeBefore = 0;
        int recordsRemoved = 0;
        for (int i = from; i < from + count; i++)
        {
            LogSegment segment = segments[i];
            sizeBefore += segment.Size;
            using SegmentLease lease = segment.Acquire();
            var scanner = new BatchScanner(lease.Handle, 0, segment.Size, 64 * 1024);
            try
            {
                while (scanner.Next(out BatchInfo info))
                {
                    ReadOnlySpan<byte> batch = scanner.ReadWhole(info);
                    ReadOnlySpan<byte> keep = Filter(batch, map, dropTombstones[i - from], scratch, retained, rewritten, ref recordsRemoved);
                    if (!keep.IsEmpty)
                    {
                        RandomAccess.Write(output, keep, written);
                        written += keep.Length;
                    }
                }
            }
            finally
            {
                scanner.Dispose();
            }
        }

        RandomAccess.FlushToDisk(output);
        return new CleanedSegment(cleanedPath, sizeBefore, written, recordsRemoved);
    }

    /// <summary>
    /// Kafka's groupSegmentsBySize: from <paramref name="from"/>, how many neighbouring segments of
    /// the <paramref name="cleanableCount"/> cleanable ones fit in one segment of
    /// <paramref name="maxSizeBytes"/> with offsets relative to the first fitting an int (at least one).
    /// </summary>
    public static int GroupBySize(LogSegment[] segments, int from, int cleanableCount, long maxSizeBytes)
    {
        long size = segments[from].Size;
        int count = 1;
        while (from + count < cleanableCount)
        {
            LogSegment next = segments[from + count];
            long nextEnd = segments[from + count + 1].BaseOffset - 1; // a cleanable segment always has a successor
            if (size + next.Size > maxSizeBytes || nextEnd - segments[from].BaseOffset > int.MaxValue)
            {
                break;
            }

            size += next.Size;
            count++;
        }

        return count;
    }

    /// <summary>The offset after the last batch of a (swap) file, or -1 when it holds none.</summary>
    public static long NextOffsetOf(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var scanner = new BatchScanner(handle, 0, RandomAccess.GetLength(handle), 64 * 1024);
        try
        {
            long next = -1;
            while (scanner.Next(out BatchInfo batch))
            {
                next = batch.LastOffset + 1;
            }

            return next;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>The bytes to write for one batch: the batch itself, a rewritten copy, or nothing.</summary>
    private static ReadOnlySpan<byte> Filter(ReadOnlySpan<byte> batch, OffsetMap map, bool dropTombstones,
        PooledBufferWriter scratch, PooledBufferWriter retained, PooledBufferWriter rewritten, ref int recordsRemoved)
    {
        var header = new RecordBatchHeader(batch);
        if (header.IsControl || header.IsTransactional
            || RecordBatchRecords.TryGetRecords(batch, scratch, RecordTimestamps.MaxDecompressedBytes, out ReadOnlySpan<byte> records) != ErrorCode.None)
        {
            return batch;
        }

        retained.Clear();
        int kept = 0;
        int total = 0;
        long maxTimestamp = -1;
        var enumerator = new RecordEnumerator(records);
        while (enumerator.MoveNext())
        {
            Record record = enumerator.Current;
            total++;
            long offset = record.Offset(header.BaseOffset);
            bool superseded = !record.IsKeyNull && map.Get(record.Key) > offset;
            bool expiredTombstone = dropTombstones && record.IsValueNull && !record.IsKeyNull;
            if (superseded || expiredTombstone)
            {
                continue;
            }

            int end = records.Length - enumerator.RemainingBytes;
            retained.Write(records.Slice(end - record.SizeInBytes, record.SizeInBytes));
            kept++;
            maxTimestamp = Math.Max(maxTimestamp, record.Timestamp(header.BaseTimestamp));
        }

        if (enumerator.Failed || kept == total)
        {
            return batch; // undecodable records are never dropped; an untouched batch is copied
        }

        recordsRemoved += total - kept;
        if (kept == 0)
        {
            return ReadOnlySpan<byte>.Empty;
        }

        rewritten.Clear();
        batch.Slice(0, RecordBatchHeader.HeaderSize).CopyTo(rewritten.GetSpan(RecordBatchHeader.HeaderSize));
        rewritten.Advance(RecordBatchHeader.HeaderSize);
        CompressionCodecs.Get(header.CompressionType).Compress(retained.WrittenSpan, rewritten);
        Span<byte> output = rewritten.WrittenSpanMutable;
        BinaryPrimitives.WriteInt32BigEndian(output.Slice(RecordBatchHeader.BatchLengthOffset), output.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(output.Slice(RecordBatchHeader.RecordCountOffset), kept);
        if (header.TimestampType == TimestampType.CreateTime)
        {
            BinaryPrimitives.WriteInt64BigEndian(output.Slice(RecordBatchHeader.MaxTimestampOffset), maxTimestamp);
        }

        RecordBatchHeader.UpdateCrc(output);
        return output;
    }
}

/// <summary>A segment copied by the cleaner: the .cleaned file, sizes before and after, records removed.</summary>
internal readonly record struct CleanedSegment(string CleanedPath, long SizeBefore, long SizeAfter, int RecordsRemoved);
