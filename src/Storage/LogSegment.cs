using System.Buffers.Binary;
using System.Diagnostics;
using Broker.Protocol.Records;
using Broker.Storage.Index;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// One segment of a partition log (Kafka <c>LogSegment</c>): <c>&lt;20-digit base offset&gt;.log</c>
/// holding v2 record batches back to back exactly as appended (after offset assignment), plus its
/// sparse <see cref="OffsetIndex"/> and <see cref="TimeIndex"/>. Every batch in the file has
/// base offset &gt;= the segment's base offset, offsets increase through the file, and the file
/// contains only whole batches except after a crash (recovery truncates the torn tail).
///
/// Threads: one writer (the partition's append/truncate path, serialised by PartitionLog) and any
/// number of readers. The writer writes bytes with positional writes first and publishes the new
/// <see cref="Size"/> afterwards, so readers that clamp to Size only see whole appended batches.
/// Sealed segments never change (apart from truncation by a follower, serialised by the owner).
/// A sealed segment's file is opened and its indexes loaded on first use, under a lease, and
/// closed again by the <see cref="SegmentHandleCache"/> when it is idle (LogSegment.Leases.cs):
/// every use of <see cref="Handle"/> or the indexes of a sealed segment holds a lease.
/// </summary>
internal sealed partial class LogSegment : IDisposable
{
    public const string LogSuffix = ".log";
    public const string IndexSuffix = ".index";
    public const string TimeIndexSuffix = ".timeindex";
    public const string DeletedSuffix = ".deleted";

    private readonly object _loadLock = new();
    private volatile bool _indexesLoaded;
    private volatile bool _timestampsKnown;
    private volatile int _size;
    private long _maxTimestampSoFar = -1;
    private long _offsetOfMaxTimestampSoFar;
    private int _bytesSinceLastIndexEntry;
    private int _indexIntervalBytes;

    private LogSegment(string directory, long baseOffset, SafeFileHandle? handle, int size, int indexIntervalBytes, int maxIndexBytes, long createdMs, SegmentHandleCache cache)
    {
        Directory = directory;
        BaseOffset = baseOffset;
        LogPath = System.IO.Path.Combine(directory, FileName(baseOffset, LogSuffix));
        _handle = handle;
        _pinned = handle is not null;
        _cache = cache;
        _size = size;
        _indexIntervalBytes = indexIntervalBytes;
        OffsetIndex = new OffsetIndex(System.IO.Path.Combine(directory, FileName(baseOffset, IndexSuffix)), baseOffset, maxIndexBytes);
        TimeIndex = new TimeIndex(System.IO.Path.Combine(directory, FileName(baseOffset, TimeIndexSuffix)), baseOffset, maxIndexBytes);
        CreatedMs = createdMs;
        _offsetOfMaxTimestampSoFar = baseOffset;
    }

    public string Directory { get; }

    public long BaseOffset { get; }

    public string LogPath { get; private set; }

    /// <summary>
    /// The open .log file: valid while the segment is active (pinned) or the caller holds a lease;
    /// shared with the <see cref="FileRecords"/> handed to readers, which hold a lease each.
    /// </summary>
    public SafeFileHandle Handle
    {
        get
        {
            SafeFileHandle? handle = _handle;
            Debug.Assert(handle is not null && (_pinned || _leases > 0), "the handle is used under a lease or on the active segment");
            return handle ?? throw new ObjectDisposedException(LogPath, "The segment file is not open.");
        }
    }

    public OffsetIndex OffsetIndex { get; }

    public TimeIndex TimeIndex { get; }

    /// <summary>Bytes of whole batches in the file (published after each append).</summary>
    public int Size => _size;

    /// <summary>When the segment was created (or, for a reloaded one, the first time it was appended to): drives segment.ms.</summary>
    public long CreatedMs { get; private set; }

    /// <summary>The largest batch max timestamp in this segment (-1 if none), used by retention.ms.</summary>
    public long MaxTimestampSoFar
    {
        get
        {
            EnsureTimestampsKnown();
            return Volatile.Read(ref _maxTimestampSoFar);
        }
    }

    /// <summary>Offset of the batch holding <see cref="MaxTimestampSoFar"/>.</summary>
    public long OffsetOfMaxTimestampSoFar
    {
        get
        {
            EnsureTimestampsKnown();
            return Volatile.Read(ref _offsetOfMaxTimestampSoFar);
        }
    }

    /// <summary>Kafka's 20-digit zero-padded file name for a base offset.</summary>
    public static string FileName(long baseOffset, string suffix) =>
        baseOffset.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + suffix;

    /// <summary>Creates an empty active segment (fails if a non-empty .log with this base offset exists).</summary>
    public static LogSegment Create(string directory, long baseOffset, LogConfig config, long nowMs, SegmentHandleCache cache)
    {
        string path = System.IO.Path.Combine(directory, FileName(baseOffset, LogSuffix));
        // Asynchronous: the network sends fetched regions with SendPacketsAsync (sendfile), which
        // only takes asynchronous handles; on Linux positional reads and writes are unchanged.
        SafeFileHandle handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        if (RandomAccess.GetLength(handle) != 0)
        {
            RandomAccess.SetLength(handle, 0); // a leftover of an interrupted roll or truncation: no data above the log end
        }

        var segment = new LogSegment(directory, baseOffset, handle, 0, config.IndexIntervalBytes, config.SegmentIndexBytes, nowMs, cache);
        segment.OffsetIndex.Reset();
        segment.TimeIndex.Reset();
        segment.OffsetIndex.OpenForAppend(config.SegmentIndexBytes);
        segment.TimeIndex.OpenForAppend(config.SegmentIndexBytes);
        segment._indexesLoaded = true;
        segment._timestampsKnown = true;
        return segment;
    }

    /// <summary>
    /// Opens an existing segment without opening its file (that happens on first use); its size
    /// is the file length (recovery may truncate it later).
    /// </summary>
    public static LogSegment Open(string directory, long baseOffset, LogConfig config, long nowMs, SegmentHandleCache cache)
    {
        string path = System.IO.Path.Combine(directory, FileName(baseOffset, LogSuffix));
        long length = new FileInfo(path).Length; // throws FileNotFoundException (an IOException) when missing
        if (length > int.MaxValue)
        {
            throw new InvalidDataException($"Segment {path} is {length} bytes, larger than a segment can be.");
        }

        long createdMs = nowMs;
        try
        {
            createdMs = new DateTimeOffset(File.GetLastWriteTimeUtc(path)).ToUnixTimeMilliseconds();
        }
        catch (IOException)
        {
        }

        return new LogSegment(directory, baseOffset, null, (int)length, config.IndexIntervalBytes, config.SegmentIndexBytes, createdMs, cache);
    }

    public void UpdateConfig(LogConfig config) => _indexIntervalBytes = config.IndexIntervalBytes;

    /// <summary>
    /// Loads the indexes (once per time the segment is opened). A missing or inconsistent index is
    /// rebuilt from the log and rewritten, as Kafka does when its sanity check fails at load.
    /// The caller holds a lease (or the segment is active), so the indexes cannot be dropped meanwhile.
    /// </summary>
    public void EnsureIndexesLoaded()
    {
        if (_indexesLoaded)
        {
            return;
        }

        Debug.Assert(_pinned || _leases > 0, "indexes are loaded under a lease");
        lock (_loadLock)
        {
            if (_indexesLoaded)
            {
                return;
            }

            if (!OffsetIndex.TryLoad(_size) || !TimeIndex.TryLoad(_size))
            {
                RebuildIndexes(validate: false, out _);
                OffsetIndex.Persist();
                TimeIndex.Persist();
            }

            // The last time index entry of a sealed segment is its largest timestamp (written at
            // seal): remember it, so retention and MAX_TIMESTAMP need not reopen the segment.
            (long ts, long offset) = TimeIndex.LastEntry;
            if (ts > _maxTimestampSoFar)
            {
                Volatile.Write(ref _offsetOfMaxTimestampSoFar, offset);
                Volatile.Write(ref _maxTimestampSoFar, ts);
            }

            _timestampsKnown = true;
            _indexesLoaded = true;
        }
    }

    /// <summary>Loads the indexes once so that the segment's max timestamp is known; later calls cost nothing.</summary>
    private void EnsureTimestampsKnown()
    {
        if (_timestampsKnown)
        {
            return;
        }

        using SegmentLease lease = Acquire();
        EnsureIndexesLoaded();
    }

    /// <summary>Marks the indexes as loaded (after recovery rebuilt them).</summary>
    public void MarkIndexesLoaded()
    {
        _timestampsKnown = true;
        _indexesLoaded = true;
    }

    /// <summary>Reopens a sealed segment for appends (the last segment after a restart, or after truncation).</summary>
    public void OpenForAppend(LogConfig config)
    {
        Pin();
        EnsureIndexesLoaded();
        if (!OffsetIndex.IsActive)
        {
            OffsetIndex.OpenForAppend(config.SegmentIndexBytes);
        }

        if (!TimeIndex.IsActive)
        {
            TimeIndex.OpenForAppend(config.SegmentIndexBytes);
        }

        (long ts, long offset) = TimeIndex.LastEntry;
        if (ts > _maxTimestampSoFar)
        {
            _maxTimestampSoFar = ts;
            _offsetOfMaxTimestampSoFar = offset;
        }

        _timestampsKnown = true;
    }

    /// <summary>
    /// Appends batches whose offsets are already assigned, starting at the current end of file.
    /// Writer thread only. Adds an index entry before a batch when more than index.interval.bytes
    /// were appended since the last one (Kafka LogSegment.append, per batch since 3.7).
    /// </summary>
    public void Append(ReadOnlySpan<byte> batches)
    {
        int position = _size;
        Debug.Assert((long)position + batches.Length <= int.MaxValue, "segment rolls before 2 GiB");
        RandomAccess.Write(Handle, batches, position);

        int offsetInBatches = 0;
        while (offsetInBatches < batches.Length)
        {
            ReadOnlySpan<byte> header = batches.Slice(offsetInBatches);
            int size = BinaryPrimitives.ReadInt32BigEndian(header.Slice(RecordBatchHeader.BatchLengthOffset)) + RecordBatchHeader.LogOverhead;
            long lastOffset = BinaryPrimitives.ReadInt64BigEndian(header) + BinaryPrimitives.ReadInt32BigEndian(header.Slice(RecordBatchHeader.LastOffsetDeltaOffset));
            long maxTimestamp = BinaryPrimitives.ReadInt64BigEndian(header.Slice(RecordBatchHeader.MaxTimestampOffset));
            Debug.Assert(lastOffset >= BaseOffset, "batch offsets at or above the segment base");
            if (maxTimestamp > _maxTimestampSoFar)
            {
                Volatile.Write(ref _offsetOfMaxTimestampSoFar, lastOffset);
                Volatile.Write(ref _maxTimestampSoFar, maxTimestamp);
            }

            if (_bytesSinceLastIndexEntry > _indexIntervalBytes)
            {
                OffsetIndex.Append(lastOffset, position + offsetInBatches);
                TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar);
                _bytesSinceLastIndexEntry = 0;
            }

            _bytesSinceLastIndexEntry += size;
            offsetInBatches += size;
        }

        Debug.Assert(offsetInBatches == batches.Length, "whole batches only");
        _size = position + batches.Length; // volatile: publishes the batches to readers
    }

    /// <summary>True when appending <paramref name="bytes"/> more would need a new segment.</summary>
    public bool ShouldRoll(LogConfig config, int bytes, long lastOffset, long nowMs)
    {
        if (_size == 0)
        {
            return false;
        }

        return (long)_size + bytes > config.SegmentBytes
            || nowMs - CreatedMs > config.SegmentMs
            || OffsetIndex.IsFull
            || TimeIndex.IsFull
            || lastOffset - BaseOffset > int.MaxValue;
    }

    /// <summary>
    /// The first batch whose last offset is &gt;= <paramref name="offset"/>, starting from the
    /// sparse index entry at or below it and scanning headers forward (Kafka translateOffset).
    /// </summary>
    public bool TryFindBatch(long offset, int sizeLimit, out BatchInfo batch)
    {
        using SegmentLease lease = Acquire();
        EnsureIndexesLoaded();
        (_, int startPosition) = OffsetIndex.Lookup(offset);
        var scanner = new BatchScanner(Handle, startPosition, sizeLimit, 8 * 1024);
        try
        {
            while (scanner.Next(out batch))
            {
                if (batch.LastOffset >= offset)
                {
                    return true;
                }
            }

            batch = default;
            return false;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>
    /// The end position of the last whole batch that starts at or after <paramref name="start"/>
    /// and ends at or before <paramref name="limit"/>; <paramref name="start"/> when none fits.
    /// Uses the index to skip to near the limit instead of scanning every batch.
    /// </summary>
    public long LastBatchBoundaryAtOrBefore(long start, long limit)
    {
        using SegmentLease lease = Acquire();
        EnsureIndexesLoaded();
        (_, int indexed) = OffsetIndex.LookupByPosition((int)Math.Min(limit, int.MaxValue));
        long from = Math.Max(start, indexed);
        var scanner = new BatchScanner(Handle, from, _size, 8 * 1024);
        try
        {
            long boundary = from;
            while (scanner.Next(out BatchInfo batch))
            {
                if (batch.NextPosition > limit)
                {
                    break;
                }

                boundary = batch.NextPosition;
            }

            return boundary;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>
    /// The first record with timestamp &gt;= <paramref name="timestamp"/> and offset &gt;=
    /// <paramref name="startingOffset"/> (Kafka LogSegment.findOffsetByTimestamp): the time index
    /// gives a batch to start from, headers are scanned to the first batch whose max timestamp
    /// qualifies, and that batch's records are walked (decompressed when needed). Returns the
    /// record's own timestamp and offset and the batch's leader epoch; false when none qualifies.
    /// </summary>
    public bool TryFindOffsetByTimestamp(long timestamp, long startingOffset, out TimestampAndOffset found)
    {
        using SegmentLease lease = Acquire();
        EnsureIndexesLoaded();
        long fromOffset = Math.Max(TimeIndex.LookupStartOffset(timestamp), startingOffset);
        (_, int position) = OffsetIndex.Lookup(fromOffset);
        var scanner = new BatchScanner(Handle, position, _size);
        PooledBufferWriter? scratch = null;
        try
        {
            while (scanner.Next(out BatchInfo batch))
            {
                if (batch.LastOffset < startingOffset || batch.MaxTimestamp < timestamp)
                {
                    continue;
                }

                scratch ??= new PooledBufferWriter();
                if (RecordTimestamps.TryFindFirstAtOrAfter(scanner.ReadWhole(batch), timestamp, startingOffset, scratch, out long recordTimestamp, out long offset))
                {
                    found = new TimestampAndOffset(recordTimestamp, offset, batch.PartitionLeaderEpoch);
                    return true;
                }

                // An undecodable batch (or one whose qualifying records were compacted away):
                // Kafka would move on to the next batch as well.
            }

            found = default;
            return false;
        }
        finally
        {
            scratch?.Dispose();
            scanner.Dispose();
        }
    }

    /// <summary>
    /// The earliest record carrying the segment's largest timestamp (Kafka's MAX_TIMESTAMP answer,
    /// KIP-734 as fixed by KAFKA-16310): the batch is found from the offset of the max timestamp,
    /// then its records are walked. False for an empty segment.
    /// </summary>
    public bool TryFindOffsetOfMaxTimestamp(out TimestampAndOffset found)
    {
        long maxTimestamp = MaxTimestampSoFar;
        long hint = OffsetOfMaxTimestampSoFar;
        found = default;
        if (maxTimestamp < 0)
        {
            return false;
        }

        using SegmentLease lease = Acquire();
        EnsureIndexesLoaded();
        (_, int position) = OffsetIndex.Lookup(hint);
        using var scratch = new PooledBufferWriter();

        // The index entry at or below the hint is the natural start; the whole file is scanned
        // only if the batch is not after it (the hint is a batch's last offset, never past it).
        return TryFindBatchWithMaxTimestamp(position, maxTimestamp, scratch, out found)
            || (position > 0 && TryFindBatchWithMaxTimestamp(0, maxTimestamp, scratch, out found));
    }

    private bool TryFindBatchWithMaxTimestamp(int position, long maxTimestamp, PooledBufferWriter scratch, out TimestampAndOffset found)
    {
        var scanner = new BatchScanner(Handle, position, _size);
        try
        {
            while (scanner.Next(out BatchInfo batch))
            {
                if (batch.MaxTimestamp != maxTimestamp)
                {
                    continue;
                }

                long offset = RecordTimestamps.TryFindOffsetOfMaxTimestamp(scanner.ReadWhole(batch), scratch, out long recordOffset)
                    ? recordOffset
                    : batch.LastOffset;
                found = new TimestampAndOffset(maxTimestamp, offset, batch.PartitionLeaderEpoch);
                return true;
            }

            found = default;
            return false;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>The last batch of the segment (scanning from the last index entry), or false when empty.</summary>
    public bool TryReadLastBatch(out BatchInfo last)
    {
        using SegmentLease lease = Acquire();
        EnsureIndexesLoaded();
        var scanner = new BatchScanner(Handle, OffsetIndex.LastPosition, _size);
        try
        {
            bool found = false;
            last = default;
            while (scanner.Next(out BatchInfo batch))
            {
                last = batch;
                found = true;
            }

            return found;
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>
    /// Scans the whole file and rebuilds both indexes; with <paramref name="validate"/> checks each
    /// batch's CRC too and truncates the file at the first torn or corrupt batch (Kafka
    /// LogSegment.recover). Returns the number of valid bytes; <paramref name="visitor"/> sees each valid batch.
    /// </summary>
    public int RebuildIndexes(bool validate, out int truncatedBytes, Action<BatchInfo>? visitor = null, long previousLastOffset = -1)
    {
        using SegmentLease lease = Acquire();
        OffsetIndex.Reset();
        TimeIndex.Reset();
        _maxTimestampSoFar = -1;
        _offsetOfMaxTimestampSoFar = BaseOffset;
        _bytesSinceLastIndexEntry = 0;
        int fileSize = (int)Math.Min(RandomAccess.GetLength(Handle), int.MaxValue);
        var scanner = new BatchScanner(Handle, 0, fileSize, validate ? 1024 * 1024 : 64 * 1024);
        long validBytes = 0;
        long expectedMinOffset = Math.Max(BaseOffset, previousLastOffset + 1);
        try
        {
            while (scanner.Next(out BatchInfo batch))
            {
                if (validate)
                {
                    if (batch.BaseOffset < expectedMinOffset || batch.LastOffset < batch.BaseOffset)
                    {
                        break; // offsets must increase: a stale tail after an earlier truncation
                    }

                    ReadOnlySpan<byte> bytes = scanner.ReadWhole(batch);
                    if (bytes.IsEmpty || !new RecordBatchHeader(bytes).IsCrcValid)
                    {
                        break;
                    }
                }

                if (batch.MaxTimestamp > _maxTimestampSoFar)
                {
                    _maxTimestampSoFar = batch.MaxTimestamp;
                    _offsetOfMaxTimestampSoFar = batch.LastOffset;
                }

                if (_bytesSinceLastIndexEntry > _indexIntervalBytes && !OffsetIndex.IsFull)
                {
                    OffsetIndex.Append(batch.LastOffset, (int)batch.Position);
                    TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar);
                    _bytesSinceLastIndexEntry = 0;
                }

                _bytesSinceLastIndexEntry += batch.SizeInBytes;
                validBytes = batch.NextPosition;
                expectedMinOffset = batch.LastOffset + 1;
                visitor?.Invoke(batch);
            }
        }
        finally
        {
            scanner.Dispose();
        }

        truncatedBytes = (int)(fileSize - validBytes);
        if (truncatedBytes > 0 && validate)
        {
            RandomAccess.SetLength(Handle, validBytes);
        }

        _size = (int)(validate ? validBytes : Math.Min(validBytes, _size));
        return _size;
    }

    /// <summary>
    /// Removes every batch with offsets &gt;= <paramref name="offset"/> (Kafka LogSegment.truncateTo):
    /// cuts the file at the start of the batch holding the offset. Returns the bytes removed.
    /// </summary>
    public int TruncateTo(long offset)
    {
        using SegmentLease lease = Acquire();
        EnsureIndexesLoaded();
        int newSize = TryFindBatch(offset, _size, out BatchInfo batch) ? (int)batch.Position : _size;
        int removed = _size - newSize;
        OffsetIndex.TruncateTo(offset);
        TimeIndex.TruncateTo(offset);
        _size = newSize;
        RandomAccess.SetLength(Handle, newSize);
        (long ts, long tsOffset) = TimeIndex.LastEntry;
        _maxTimestampSoFar = ts;
        _offsetOfMaxTimestampSoFar = tsOffset;
        _bytesSinceLastIndexEntry = 0;
        if (removed > 0 && newSize > 0)
        {
            // The time index only samples timestamps: rescan the tail after the last index entry
            // so that the segment's max timestamp covers every batch that remains.
            var scanner = new BatchScanner(Handle, OffsetIndex.LastPosition, newSize);
            try
            {
                while (scanner.Next(out BatchInfo b))
                {
                    if (b.MaxTimestamp > _maxTimestampSoFar)
                    {
                        _maxTimestampSoFar = b.MaxTimestamp;
                        _offsetOfMaxTimestampSoFar = b.LastOffset;
                    }
                }
            }
            finally
            {
                scanner.Dispose();
            }
        }

        return removed;
    }

    /// <summary>fsyncs the log and writes pending index entries.</summary>
    public void Flush()
    {
        using SegmentLease lease = Acquire();
        RandomAccess.FlushToDisk(Handle);
        OffsetIndex.Flush(fsync: true);
        TimeIndex.Flush(fsync: true);
    }

    /// <summary>
    /// The segment stops being the active one: record the final max timestamp in the time index,
    /// trim both indexes and fsync everything (Kafka onBecomeInactiveSegment + flush on roll).
    /// </summary>
    public void Seal(bool fsync)
    {
        if (_maxTimestampSoFar >= 0)
        {
            TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar, skipFullCheck: true);
        }

        if (fsync)
        {
            RandomAccess.FlushToDisk(Handle);
        }

        OffsetIndex.TrimAndClose(fsync);
        TimeIndex.TrimAndClose(fsync);
        Unpin();
    }

    /// <summary>
    /// Renames the files to *.deleted (Kafka asyncDeleteSegment) and closes the file as soon as no
    /// reader holds a lease: a reader that still finds the segment reopens the renamed file until
    /// <see cref="DeleteFiles"/> runs after file.delete.delay.ms.
    /// </summary>
    public void RenameForDelete()
    {
        lock (_leaseLock)
        {
            // Under the lease lock: a concurrent first use opens either the old or the new path, never neither.
            string newLogPath = LogPath + DeletedSuffix;
            File.Move(LogPath, newLogPath, overwrite: true);
            LogPath = newLogPath;
            OffsetIndex.Dispose();
            TimeIndex.Dispose();
            OffsetIndex.RenameTo(OffsetIndex.FilePath + DeletedSuffix);
            TimeIndex.RenameTo(TimeIndex.FilePath + DeletedSuffix);
        }

        CloseWhenIdle();
    }

    /// <summary>Closes the handle and removes the files.</summary>
    public void DeleteFiles()
    {
        Dispose();
        TryDelete(LogPath);
        TryDelete(OffsetIndex.FilePath);
        TryDelete(TimeIndex.FilePath);
    }

    /// <summary>Closes the file now, or when the last lease ends; no new lease can be taken.</summary>
    public void Dispose()
    {
        lock (_leaseLock)
        {
            _disposed = true;
            _pinned = false;
            OffsetIndex.Dispose();
            TimeIndex.Dispose();
            if (_leases == 0)
            {
                CloseLocked(unloadIndexes: false, discardPendingIndexEntries: true);
            }
        }

        _cache.Remove(this);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
