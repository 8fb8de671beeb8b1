using Broker.Storage.Index;

namespace Broker.Storage.Tests;

public class IndexTests
{
    [Fact(Timeout = 30_000)]
    public async Task OffsetIndex_LookupAtEveryBoundary()
    {
        await Task.Yield();
        using var dir = new TempDir();
        using var index = new OffsetIndex(Path.Combine(dir.Path, "00000000000000000100.index"), 100, 8 * 10);
        index.OpenForAppend(8 * 10);
        Assert.Equal((100L, 0), index.Lookup(50));   // below the base offset
        Assert.Equal((100L, 0), index.Lookup(100));  // empty index: scan from the start
        for (int i = 1; i <= 10; i++)
        {
            index.Append(100 + (i * 10), i * 1000); // entries at offsets 110, 120, ... 200
        }

        Assert.True(index.IsFull);
        Assert.Throws<InvalidOperationException>(() => index.Append(300, 20_000));
        Assert.Equal((100L, 0), index.Lookup(109));
        for (int i = 1; i <= 10; i++)
        {
            long entry = 100 + (i * 10);
            Assert.Equal((entry, i * 1000), index.Lookup(entry));       // exactly on an entry
            Assert.Equal((entry, i * 1000), index.Lookup(entry + 9));   // just below the next one
            Assert.Equal(i == 1 ? (100L, 0) : (entry - 10, (i - 1) * 1000), index.Lookup(entry - 1));
        }

        Assert.Equal((200L, 10_000), index.Lookup(long.MaxValue));
        Assert.Equal((150L, 5000), index.LookupByPosition(5999));
        Assert.Equal((100L, 0), index.LookupByPosition(999));

        index.TruncateTo(150);
        Assert.Equal(4, index.Entries);
        Assert.Equal((140L, 4000), index.Lookup(1000));
        index.TruncateTo(100);
        Assert.Equal(0, index.Entries);
    }

    [Fact(Timeout = 30_000)]
    public async Task TimeIndex_OnlyGrowingTimestamps_AndLookupStartsBeforeTheTarget()
    {
        await Task.Yield();
        using var dir = new TempDir();
        using var index = new TimeIndex(Path.Combine(dir.Path, "00000000000000000000.timeindex"), 0, 12 * 100);
        index.OpenForAppend(12 * 100);
        index.MaybeAppend(1000, 5);
        index.MaybeAppend(1000, 9);  // same timestamp: ignored
        index.MaybeAppend(900, 12);  // older: ignored
        index.MaybeAppend(2000, 20);
        Assert.Equal(2, index.Entries);
        Assert.Equal((2000L, 20L), index.LastEntry);
        Assert.Equal(0, index.LookupStartOffset(1000)); // batches before offset 5 may have ts == 1000
        Assert.Equal(5, index.LookupStartOffset(1001));
        Assert.Equal(20, index.LookupStartOffset(5000));
    }

    [Fact(Timeout = 30_000)]
    public async Task SealedIndex_IsTrimmed_AndReloadsTheSameEntries()
    {
        await Task.Yield();
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "00000000000000000000.index");
        using (var index = new OffsetIndex(path, 0, 4096))
        {
            index.OpenForAppend(4096);
            Assert.Equal(4096, new FileInfo(path).Length); // preallocated
            index.Append(10, 100);
            index.Append(20, 300);
            index.TrimAndClose(fsync: true);
        }

        Assert.Equal(16, new FileInfo(path).Length);
        using var reloaded = new OffsetIndex(path, 0, 4096);
        Assert.True(reloaded.TryLoad(segmentSizeBytes: 1000));
        Assert.Equal((20L, 300), reloaded.Lookup(25));
        Assert.False(new OffsetIndex(path, 0, 4096).TryLoad(segmentSizeBytes: 200)); // position beyond the segment
    }
}
