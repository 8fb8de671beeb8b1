using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// The open-file lifecycle of a segment. The active segment is pinned: its file stays open and
/// its indexes loaded. A sealed segment opens its file on first use and may be closed, and its
/// indexes dropped, by the <see cref="SegmentHandleCache"/> when idle. "Idle" means no lease:
/// every reader takes one for the duration of its use of <see cref="Handle"/> or the indexes, and
/// a <see cref="FileRecords"/> region holds one until it is disposed (after the network has sent
/// it) or collected, so a region being sent with sendfile never has its file closed under it.
///
/// Threads: the lease count, the handle, the pinned/disposed flags and the log path change under
/// <c>_leaseLock</c>, which is held only for bookkeeping and the open/close calls themselves.
/// </summary>
internal sealed partial class LogSegment
{
    private readonly object _leaseLock = new();
    private readonly SegmentHandleCache _cache;
    private SafeFileHandle? _handle;
    private int _leases;
    private bool _pinned;
    private bool _disposed;
    private bool _closeWhenIdle;

    /// <summary>Set on each use; the cache's clock hand clears it (second chance).</summary>
    private volatile bool _referenced;

    /// <summary>This segment's place in its cache's ring; guarded by the cache's lock.</summary>
    internal LinkedListNode<LogSegment>? CacheNode { get; set; }

    /// <summary>True while the .log file is open (tests and metrics).</summary>
    internal bool IsFileOpen
    {
        get
        {
            lock (_leaseLock)
            {
                return _handle is not null;
            }
        }
    }

    /// <summary>
    /// Takes a lease: opens the file if it is closed and keeps it open until the lease is
    /// disposed. Throws ObjectDisposedException after <see cref="Dispose"/> (a deleted segment
    /// past its delay, or a closed log), which readers turn into a retriable error.
    /// </summary>
    public SegmentLease Acquire()
    {
        SafeFileHandle handle;
        bool opened = false;
        lock (_leaseLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_handle is null)
            {
                // Asynchronous: the network sends fetched regions with SendPacketsAsync (sendfile),
                // which only takes asynchronous handles; positional reads and writes are unchanged.
                _handle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
                opened = !_pinned && !_closeWhenIdle;
            }

            _leases++;
            _referenced = true;
            handle = _handle;
        }

        if (opened)
        {
            _cache.Add(this); // outside our lock: the cache locks itself, then segments
        }

        return new SegmentLease(this, handle);
    }

    /// <summary>A region of the file for a reader, holding <paramref name="lease"/> (ownership passes to the region).</summary>
    public FileRecords CreateRecords(in SegmentLease lease, long position, int length)
    {
        Debug.Assert(lease.Segment == this, "the lease is this segment's");
        return new FileRecords(this, lease.Handle, position, length);
    }

    /// <summary>Ends one lease (from <see cref="SegmentLease"/> or a <see cref="FileRecords"/>).</summary>
    internal void ReleaseLease()
    {
        lock (_leaseLock)
        {
            Debug.Assert(_leases > 0, "every release matches an acquire");
            _leases--;
            if (_leases == 0 && (_disposed || _closeWhenIdle))
            {
                CloseLocked(unloadIndexes: !_disposed, discardPendingIndexEntries: true);
            }
        }

        _cache.TrimIfOverCapacity();
    }

    /// <summary>Called by the cache's clock hand: closes the file if no reader holds it and it was not used since the last pass.</summary>
    internal SegmentHandleCache.CloseResult TryCloseIdle()
    {
        lock (_leaseLock)
        {
            if (_handle is null || _pinned || _disposed || _closeWhenIdle)
            {
                return SegmentHandleCache.CloseResult.NotOpen;
            }

            if (_leases > 0)
            {
                return SegmentHandleCache.CloseResult.InUse;
            }

            if (_referenced)
            {
                _referenced = false;
                return SegmentHandleCache.CloseResult.InUse;
            }

            CloseLocked(unloadIndexes: true, discardPendingIndexEntries: false);
            return SegmentHandleCache.CloseResult.Closed;
        }
    }

    /// <summary>Becomes the active segment: the file stays open and outside the cache.</summary>
    private void Pin()
    {
        lock (_leaseLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _pinned = true;
            _closeWhenIdle = false;
            _handle ??= File.OpenHandle(LogPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }

        _cache.Remove(this);
    }

    /// <summary>Sealed: the file may be closed by the cache from now on.</summary>
    private void Unpin()
    {
        bool open;
        lock (_leaseLock)
        {
            _pinned = false;
            _referenced = true; // just written: likely read next (consumers a little behind)
            open = _handle is not null && !_disposed && !_closeWhenIdle;
        }

        if (open)
        {
            _cache.Add(this);
        }
    }

    /// <summary>Deleted: close the file as soon as no reader holds it, and keep it out of the cache.</summary>
    private void CloseWhenIdle()
    {
        lock (_leaseLock)
        {
            _pinned = false;
            _closeWhenIdle = true;
            if (_leases == 0 && _handle is not null)
            {
                CloseLocked(unloadIndexes: true, discardPendingIndexEntries: true);
            }
        }

        _cache.Remove(this);
    }

    private void CloseLocked(bool unloadIndexes, bool discardPendingIndexEntries)
    {
        Debug.Assert(_leases == 0 && !_pinned, "only an idle, sealed segment is closed");
        _handle?.Dispose();
        _handle = null;

        // No lease means no reader is looking at the index buffers; entries not yet written
        // (none for a sealed segment: sealing persists them) keep the indexes in memory.
        if (unloadIndexes && OffsetIndex.CanUnload(discardPendingIndexEntries) && TimeIndex.CanUnload(discardPendingIndexEntries))
        {
            _indexesLoaded = false;
            OffsetIndex.Unload();
            TimeIndex.Unload();
        }
    }
}

/// <summary>
/// One lease on a segment's open file (see <see cref="LogSegment.Acquire"/>); dispose exactly once,
/// with <c>using</c>, or hand it to <see cref="LogSegment.CreateRecords"/>.
/// </summary>
internal readonly struct SegmentLease : IDisposable
{
    public SegmentLease(LogSegment segment, SafeFileHandle handle)
    {
        Segment = segment;
        Handle = handle;
    }

    public LogSegment Segment { get; }

    public SafeFileHandle Handle { get; }

    public void Dispose() => Segment?.ReleaseLease();
}
