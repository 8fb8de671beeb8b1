using System.Diagnostics;
using System.Globalization;

namespace Broker.Storage.Checkpoints;

/// <summary>
/// Leader epoch -> start offset of the epoch in this log (Kafka <c>LeaderEpochFileCache</c>, KIP-101/279),
/// persisted to <c>leader-epoch-checkpoint</c> in the partition directory as "epoch startOffset" lines.
/// Epochs and start offsets strictly increase. Used by OffsetForLeaderEpoch so that a follower
/// truncates exactly to where its log diverged from the leader's.
/// Threads: mutated by the partition writer; <see cref="EndOffsetFor"/> may be called concurrently
/// (guarded by a lock; these are rare control-plane calls).
/// </summary>
public sealed class LeaderEpochCache
{
    public const string FileName = "leader-epoch-checkpoint";
    public const int UndefinedEpoch = -1;
    public const long UndefinedEpochOffset = -1;

    private readonly List<(int Epoch, long StartOffset)> _entries = new();
    private readonly object _lock = new();
    private readonly string? _path;
    private volatile int _latestEpoch = UndefinedEpoch;

    internal LeaderEpochCache(string? path) => _path = path;

    /// <summary>The newest epoch (lock-free read: the append path checks it on every append).</summary>
    public int LatestEpoch => _latestEpoch;

    public IReadOnlyList<(int Epoch, long StartOffset)> Entries
    {
        get
        {
            lock (_lock)
            {
                return _entries.ToArray();
            }
        }
    }

    internal static LeaderEpochCache Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        var cache = new LeaderEpochCache(path);
        List<string[]>? lines = CheckpointFile.Read(path, 2);
        if (lines is not null)
        {
            foreach (string[] fields in lines)
            {
                cache._entries.Add((int.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture)));
            }

            cache._latestEpoch = cache._entries.Count == 0 ? UndefinedEpoch : cache._entries[^1].Epoch;
        }

        return cache;
    }

    /// <summary>
    /// Records that <paramref name="epoch"/> starts at <paramref name="startOffset"/> when it is new
    /// (Kafka assign): an epoch lower than the latest is ignored, as are entries whose offset does
    /// not increase (they are replaced by the newer epoch at that offset).
    /// </summary>
    public void Assign(int epoch, long startOffset)
    {
        if (epoch < 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_entries.Count > 0)
            {
                (int latestEpoch, long latestOffset) = _entries[^1];
                if (epoch <= latestEpoch)
                {
                    return;
                }

                // An earlier epoch that ended up with no records is dropped (same start offset).
                while (_entries.Count > 0 && _entries[^1].StartOffset >= startOffset)
                {
                    _entries.RemoveAt(_entries.Count - 1);
                }

                Debug.Assert(_entries.Count == 0 || _entries[^1].StartOffset < startOffset || latestOffset >= startOffset);
            }

            _entries.Add((epoch, startOffset));
            Flush();
        }
    }

    /// <summary>
    /// Kafka endOffsetFor: (largest epoch &lt;= requested, start offset of the next higher epoch),
    /// or (requested, LEO) for the latest epoch; (-1, -1) when requested is above the latest or undefined.
    /// </summary>
    public (int Epoch, long EndOffset) EndOffsetFor(int requestedEpoch, long logEndOffset)
    {
        lock (_lock)
        {
            if (requestedEpoch == UndefinedEpoch || _entries.Count == 0)
            {
                return (UndefinedEpoch, UndefinedEpochOffset);
            }

            if (_entries[^1].Epoch == requestedEpoch)
            {
                return (requestedEpoch, logEndOffset);
            }

            int higher = -1;
            for (int i = 0; i < _entries.Count; i++)
            {
                if (_entries[i].Epoch > requestedEpoch)
                {
                    higher = i;
                    break;
                }
            }

            if (higher < 0)
            {
                return (UndefinedEpoch, UndefinedEpochOffset);
            }

            return higher == 0
                ? (requestedEpoch, _entries[0].StartOffset)
                : (_entries[higher - 1].Epoch, _entries[higher].StartOffset);
        }
    }

    /// <summary>Removes epochs starting at or after <paramref name="endOffset"/> (log truncated to it).</summary>
    public void TruncateFromEnd(long endOffset)
    {
        lock (_lock)
        {
            int before = _entries.Count;
            while (_entries.Count > 0 && _entries[^1].StartOffset >= endOffset)
            {
                _entries.RemoveAt(_entries.Count - 1);
            }

            if (_entries.Count != before)
            {
                Flush();
            }
        }
    }

    /// <summary>
    /// The log start moved to <paramref name="startOffset"/>: drop epochs that ended before it and
    /// move the start of the epoch covering it (Kafka truncateFromStartAsyncFlush).
    /// </summary>
    public void TruncateFromStart(long startOffset)
    {
        lock (_lock)
        {
            int covering = -1;
            for (int i = 0; i < _entries.Count; i++)
            {
                if (_entries[i].StartOffset <= startOffset)
                {
                    covering = i;
                }
            }

            if (covering < 0 || (covering == 0 && _entries[0].StartOffset == startOffset))
            {
                return;
            }

            int epoch = _entries[covering].Epoch;
            _entries.RemoveRange(0, covering + 1);
            _entries.Insert(0, (epoch, startOffset));
            Flush();
        }
    }

    /// <summary>Removes everything (log fully truncated).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _entries.Clear();
            Flush();
        }
    }

    private void Flush()
    {
        _latestEpoch = _entries.Count == 0 ? UndefinedEpoch : _entries[^1].Epoch;
        if (_path is null)
        {
            return;
        }

        var lines = new List<string>(_entries.Count);
        foreach ((int epoch, long offset) in _entries)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{epoch} {offset}"));
        }

        CheckpointFile.Write(_path, lines);
    }
}
