using System.Diagnostics;

namespace Broker.Fetch;

/// <summary>
/// The broker's incremental fetch sessions (Kafka <c>FetchSessionCache</c>), bounded by
/// max.incremental.fetch.session.cache.slots (1000). When full, a new session may take the slot
/// of the least recently used one only if that one has been idle for
/// <see cref="EvictionIdleMs"/> (Kafka's 120 s "stale" rule); otherwise the client gets session
/// id 0 and keeps sending full fetches, as Kafka answers when it cannot cache a session.
/// Kafka also lets a session with more partitions evict a smaller consumer session; we do not.
/// Threads: all methods take the cache's lock; sessions are found by id in O(1).
/// </summary>
public sealed class FetchSessionCache
{
    public const long EvictionIdleMs = 120_000;

    private readonly object _lock = new();
    private readonly Dictionary<int, FetchSession> _sessions = new();
    private readonly int _maxSlots;
    private int _nextId = Random.Shared.Next(1, int.MaxValue);

    public FetchSessionCache(int maxSlots)
    {
        _maxSlots = Math.Max(0, maxSlots);
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sessions.Count;
            }
        }
    }

    public long Evictions { get; private set; }

    /// <summary>A new session, or null when the cache is full of sessions used recently.</summary>
    public FetchSession? TryCreate(bool usesTopicIds, bool isFollower, long nowMs)
    {
        lock (_lock)
        {
            if (_maxSlots == 0)
            {
                return null;
            }

            if (_sessions.Count >= _maxSlots && !TryEvictLocked(nowMs))
            {
                return null;
            }

            int id = NewIdLocked();
            var session = new FetchSession(id, usesTopicIds, isFollower, nowMs);
            _sessions.Add(id, session);
            Debug.Assert(_sessions.Count <= _maxSlots, "the cache never holds more than its slots");
            return session;
        }
    }

    /// <summary>The session with this id (touching it), or null.</summary>
    public FetchSession? Get(int sessionId, long nowMs)
    {
        lock (_lock)
        {
            if (!_sessions.TryGetValue(sessionId, out FetchSession? session))
            {
                return null;
            }

            session.LastUsedMs = nowMs;
            return session;
        }
    }

    public bool Remove(int sessionId)
    {
        lock (_lock)
        {
            return _sessions.Remove(sessionId);
        }
    }

    private bool TryEvictLocked(long nowMs)
    {
        FetchSession? oldest = null;
        foreach (FetchSession session in _sessions.Values)
        {
            if (oldest is null || session.LastUsedMs < oldest.LastUsedMs)
            {
                oldest = session;
            }
        }

        if (oldest is null || nowMs - oldest.LastUsedMs < EvictionIdleMs)
        {
            return false;
        }

        _sessions.Remove(oldest.Id);
        Evictions++;
        return true;
    }

    private int NewIdLocked()
    {
        while (true)
        {
            int id = _nextId;
            _nextId = _nextId == int.MaxValue ? 1 : _nextId + 1;
            if (id > 0 && !_sessions.ContainsKey(id))
            {
                return id;
            }
        }
    }
}
