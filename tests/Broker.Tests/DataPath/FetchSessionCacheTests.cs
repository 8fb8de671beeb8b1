using Broker.Fetch;

namespace Broker.Tests.DataPath;

public sealed class FetchSessionCacheTests
{
    [Fact]
    public void A_full_cache_evicts_only_a_session_idle_for_the_eviction_time()
    {
        var cache = new FetchSessionCache(2);
        FetchSession a = cache.TryCreate(usesTopicIds: true, isFollower: false, nowMs: 0)!;
        FetchSession b = cache.TryCreate(usesTopicIds: true, isFollower: false, nowMs: 10)!;
        Assert.NotEqual(a.Id, b.Id);
        Assert.Null(cache.TryCreate(true, false, nowMs: 1000)); // both used recently

        Assert.NotNull(cache.Get(a.Id, nowMs: FetchSessionCache.EvictionIdleMs)); // a is used again, b stays idle
        FetchSession? c = cache.TryCreate(true, false, nowMs: FetchSessionCache.EvictionIdleMs + 10);
        Assert.NotNull(c);
        Assert.Null(cache.Get(b.Id, FetchSessionCache.EvictionIdleMs + 20)); // the least recently used went
        Assert.NotNull(cache.Get(a.Id, FetchSessionCache.EvictionIdleMs + 20));
        Assert.Equal(2, cache.Count);
        Assert.Equal(1, cache.Evictions);
    }

    [Fact]
    public void Zero_slots_means_no_sessions()
    {
        Assert.Null(new FetchSessionCache(0).TryCreate(false, false, 0));
    }

    [Fact]
    public void Session_epochs_advance_and_wrap_to_one()
    {
        var session = new FetchSession(7, usesTopicIds: false, isFollower: false, nowMs: 0);
        Assert.Equal(1, session.Epoch);
        session.NextEpoch();
        Assert.Equal(2, session.Epoch);
        for (int i = 0; i < 5; i++)
        {
            session.AddOrUpdate(FetchKey.ByName("t", i), i, 100, -1, -1, -1);
        }

        session.MoveToEnd(session.Partitions[0]);
        Assert.Equal(new[] { 1, 2, 3, 4, 0 }, session.Partitions.Select(p => p.Key.Partition));
        Assert.True(session.Remove(FetchKey.ByName("t", 3)));
        Assert.False(session.Remove(FetchKey.ByName("t", 3)));
        Assert.Equal(4, session.PartitionCount);
    }
}
