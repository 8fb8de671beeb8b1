using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage.Index;

/// <summary>
/// Common part of Kafka's sparse <c>.index</c> and <c>.timeindex</c> files: fixed-size big-endian
/// entries relative to the segment's base offset, in a file preallocated to segment.index.bytes
/// while the segment is active and trimmed to the entries when it is sealed (Kafka
/// <c>AbstractIndex</c>).
///
/// Instead of memory-mapping, the entries are kept in a managed byte array in the file's own
/// layout (so lookups decode big-endian values on the fly and the file is written by copying the
/// array). Pending entries reach the file on <see cref="Flush"/> and when the index is trimmed:
/// after a crash the indexes of unflushed segments are rebuilt from the log anyway (Kafka does the
/// same), so writing each entry as it is appended would only cost a syscall per entry.
///
/// Threads: one writer (the partition's appender); any number of readers. The writer publishes
/// the buffer before the entry count, and readers read the count first, so a reader always sees
/// a consistent prefix of entries. Sealed indexes are loaded lazily on first lookup.
/// </summary>
internal abstract class IndexFile : IDisposable
{
    private byte[] _buffer = Array.Empty<byte>();
    private volatile int _entries;
    private int _persistedEntries;
    private SafeFileHandle? _handle;

    protected IndexFile(string filePath, long baseOffset, int maxIndexBytes)
    {
        FilePath = filePath;
        BaseOffset = baseOffset;
        MaxIndexBytes = maxIndexBytes;
    }

    public string FilePath { get; private set; }

    public long BaseOffset { get; }

    public int MaxIndexBytes { get; private set; }

    public abstract int EntrySize { get; }

    public int MaxEntries => MaxIndexBytes / EntrySize;

    public int Entries => _entries;

    public bool IsFull => _entries >= MaxEntries;

    /// <summary>True while the file is open for appends (active segment).</summary>
    public bool IsActive => _handle is not null;

    /// <summary>Snapshot of the entries in file layout (count read before the buffer).</summary>
    protected ReadOnlySpan<byte> EntryBytes
    {
        get
        {
            int entries = _entries;
            byte[] buffer = Volatile.Read(ref _buffer);
            return buffer.AsSpan(0, entries * EntrySize);
        }
    }

    /// <summary>
    /// Reads the whole file into memory (a sealed index, or the active one after a clean shutdown).
    /// Returns false when the file is missing or fails <see cref="IsConsistent"/>; the caller rebuilds it.
    /// </summary>
    public bool TryLoad(long segmentSizeBytes)
    {
        if (!File.Exists(FilePath))
        {
            return false;
        }

        using SafeFileHandle handle = File.OpenHandle(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = RandomAccess.GetLength(handle);
        if (length % EntrySize != 0 || length > MaxIndexBytes)
        {
            return false;
        }

        byte[] buffer = new byte[length];
        int read = 0;
        while (read < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer.AsSpan(read), read);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        if (!IsConsistent(buffer, segmentSizeBytes))
        {
            return false;
        }

        Volatile.Write(ref _buffer, buffer);
        _persistedEntries = buffer.Length / EntrySize;
        _entries = _persistedEntries;
        return true;
    }

    /// <summary>Checks a loaded file: entries increasing and within the segment (stronger than Kafka's sanityCheck).</summary>
    protected abstract bool IsConsistent(ReadOnlySpan<byte> entries, long segmentSizeBytes);

    /// <summary>
    /// Opens the file for appends and preallocates it to <paramref name="maxIndexBytes"/>
    /// (sparse, as Kafka's RandomAccessFile.setLength). Existing in-memory entries are kept.
    /// </summary>
    public void OpenForAppend(int maxIndexBytes)
    {
        Debug.Assert(_handle is null, "index already active");
        MaxIndexBytes = Math.Max(maxIndexBytes - (maxIndexBytes % EntrySize), EntrySize);
        _handle = File.OpenHandle(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.SetLength(_handle, MaxIndexBytes);
        _persistedEntries = Math.Min(_persistedEntries, _entries);
    }

    /// <summary>Appends one entry already encoded in file layout (active index, or a sealed one being rebuilt). Writer thread only.</summary>
    protected void AppendEntryBytes(ReadOnlySpan<byte> entry)
    {
        Debug.Assert(entry.Length == EntrySize);
        int entries = _entries;
        if (entries >= MaxEntries)
        {
            throw new InvalidOperationException($"Index {FilePath} is full ({entries} entries).");
        }

        byte[] buffer = _buffer;
        int end = (entries + 1) * EntrySize;
        if (end > buffer.Length)
        {
            int grown = Math.Min(Math.Max(buffer.Length * 2, 64 * EntrySize), MaxEntries * EntrySize);
            byte[] larger = new byte[grown];
            buffer.AsSpan(0, entries * EntrySize).CopyTo(larger);
            Volatile.Write(ref _buffer, larger);
            buffer = larger;
        }

        entry.CopyTo(buffer.AsSpan(entries * EntrySize));
        _entries = entries + 1; // volatile: publishes the entry
    }

    /// <summary>Drops entries from <paramref name="entries"/> on (truncation). Writer thread only.</summary>
    public void TruncateToEntries(int entries)
    {
        Debug.Assert(entries >= 0 && entries <= _entries);
        _entries = entries;
        if (_persistedEntries > entries)
        {
            _persistedEntries = entries;
            if (_handle is null)
            {
                using SafeFileHandle handle = File.OpenHandle(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                RandomAccess.SetLength(handle, (long)entries * EntrySize);
            }
            else
            {
                // Zero the stale tail so that a later load of the untrimmed file does not see it.
                Span<byte> zeros = stackalloc byte[256];
                zeros.Clear();
                long position = (long)entries * EntrySize;
                long end = Math.Min(MaxIndexBytes, position + 256);
                RandomAccess.Write(_handle, zeros.Slice(0, (int)(end - position)), position);
            }
        }
    }

    /// <summary>Removes all entries (before a rebuild).</summary>
    public void Reset() => TruncateToEntries(0);

    /// <summary>Writes pending entries to the file (and fsyncs when asked).</summary>
    public void Flush(bool fsync)
    {
        WritePending();
        if (fsync && _handle is not null)
        {
            RandomAccess.FlushToDisk(_handle);
        }
    }

    private void WritePending()
    {
        int entries = _entries;
        if (_persistedEntries >= entries)
        {
            return;
        }

        ReadOnlySpan<byte> pending = _buffer.AsSpan(_persistedEntries * EntrySize, (entries - _persistedEntries) * EntrySize);
        if (_handle is not null)
        {
            RandomAccess.Write(_handle, pending, (long)_persistedEntries * EntrySize);
        }
        else
        {
            using SafeFileHandle handle = File.OpenHandle(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            RandomAccess.Write(handle, pending, (long)_persistedEntries * EntrySize);
        }

        _persistedEntries = entries;
    }

    /// <summary>
    /// Seals the index: writes pending entries, trims the file to them, fsyncs and closes it
    /// (Kafka trimToValidSize on roll and close).
    /// </summary>
    public void TrimAndClose(bool fsync)
    {
        if (_handle is null)
        {
            Persist(); // rewrites the whole file: an older, longer file must not leave stale entries behind
            return;
        }

        WritePending();
        RandomAccess.SetLength(_handle, (long)_entries * EntrySize);
        if (fsync)
        {
            RandomAccess.FlushToDisk(_handle);
        }

        _handle.Dispose();
        _handle = null;
    }

    /// <summary>Writes a whole rebuilt index of a sealed segment to disk, trimmed.</summary>
    public void Persist()
    {
        if (_handle is not null)
        {
            Flush(fsync: false);
            return;
        }

        using SafeFileHandle handle = File.OpenHandle(FilePath, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.Write(handle, EntryBytes, 0);
        _persistedEntries = _entries;
    }

    /// <summary>
    /// True when the in-memory entries can be dropped and reloaded from the file later: the index
    /// is not open for appends and every entry is on disk (or the caller discards the rest).
    /// </summary>
    public bool CanUnload(bool discardPending) => _handle is null && (discardPending || _persistedEntries >= _entries);

    /// <summary>
    /// Drops the entries from memory (a sealed segment closed by the handle cache); the next
    /// <see cref="TryLoad"/> reads them again. No reader may be using the index (the segment holds no lease).
    /// </summary>
    public void Unload()
    {
        Debug.Assert(_handle is null, "only a sealed index is unloaded");
        _entries = 0;
        _persistedEntries = 0;
        Volatile.Write(ref _buffer, Array.Empty<byte>());
    }

    public void RenameTo(string newPath)
    {
        if (File.Exists(FilePath))
        {
            File.Move(FilePath, newPath, overwrite: true);
        }

        FilePath = newPath;
    }

    public void DeleteFile()
    {
        Dispose();
        File.Delete(FilePath);
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
    }
}
