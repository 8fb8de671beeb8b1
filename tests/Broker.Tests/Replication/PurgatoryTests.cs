using Broker.Replication.Purgatory;
using Broker.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Tests.Replication;

public sealed class PurgatoryTests
{
    private static readonly TopicPartition Key = new("purgatory-topic", 0);

    [Fact]
    public void Completes_at_once_when_the_condition_already_holds()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time);
        var op = new TestOperation(time.GetUtcNow().ToUnixTimeMilliseconds() + 1000) { Ready = true };

        Assert.True(purgatory.TryCompleteElseWatch(op, [Key]));
        Assert.Equal(1, op.Completions);
        Assert.Equal(0, purgatory.Delayed);
        Assert.Equal(0, purgatory.Watched);
    }

    [Fact]
    public void A_watched_operation_completes_when_its_key_is_checked_after_the_condition_holds()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time);
        var op = new TestOperation(time.GetUtcNow().ToUnixTimeMilliseconds() + 1000);

        Assert.False(purgatory.TryCompleteElseWatch(op, [Key]));
        Assert.Equal(1, purgatory.Delayed);
        Assert.Equal(0, purgatory.CheckAndComplete(Key)); // condition still false
        Assert.False(op.IsCompleted);

        op.Ready = true;
        Assert.Equal(0, purgatory.CheckAndComplete(new TopicPartition("other", 0)));
        Assert.Equal(1, purgatory.CheckAndComplete(Key));
        Assert.Equal(1, op.Completions);
        Assert.False(op.Expired);
        Assert.Equal(0, purgatory.Delayed);
        Assert.Equal(0, purgatory.Watched);

        time.Advance(TimeSpan.FromSeconds(5)); // the deadline passing later does nothing
        Assert.Equal(1, op.Completions);
        Assert.False(op.Expired);
    }

    [Fact]
    public void Expires_at_its_deadline_and_not_before()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var op = new TestOperation(now + 500);
        purgatory.TryCompleteElseWatch(op, [Key]);

        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(op.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(op.IsCompleted);
        Assert.True(op.Expired);
        Assert.Equal(1, op.Completions);
        Assert.Equal(0, purgatory.Delayed);
    }

    [Fact]
    public void One_timer_serves_many_deadlines_in_order()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var ops = new List<TestOperation>();
        // Scheduled out of order: the timer must re-arm for an earlier deadline.
        foreach (int delay in new[] { 300, 100, 200, 1000, 50 })
        {
            var op = new TestOperation(now + delay);
            ops.Add(op);
            purgatory.TryCompleteElseWatch(op, [new TopicPartition("t", delay)]);
        }

        time.Advance(TimeSpan.FromMilliseconds(60));
        Assert.Equal(new[] { false, false, false, false, true }, ops.Select(o => o.IsCompleted));
        time.Advance(TimeSpan.FromMilliseconds(150)); // t = 210
        Assert.Equal(new[] { false, true, true, false, true }, ops.Select(o => o.IsCompleted));
        time.Advance(TimeSpan.FromMilliseconds(1000));
        Assert.All(ops, o => Assert.True(o.Expired));
        Assert.Equal(0, purgatory.Delayed);
    }

    [Fact]
    public void An_operation_watched_under_several_keys_completes_once()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time);
        var op = new TestOperation(time.GetUtcNow().ToUnixTimeMilliseconds() + 1000);
        TopicPartition a = new("multi", 0), b = new("multi", 1);
        purgatory.TryCompleteElseWatch(op, [a, b]);
        op.Ready = true;

        Assert.Equal(1, purgatory.CheckAndComplete(b));
        Assert.Equal(0, purgatory.CheckAndComplete(a));
        Assert.Equal(1, op.Completions);
        Assert.Equal(0, purgatory.Watched);
    }

    [Fact]
    public void Completed_operations_are_swept_from_watcher_lists_of_idle_keys()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time, purgeIntervalRequests: 10);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < 25; i++)
        {
            purgatory.TryCompleteElseWatch(new TestOperation(now + 10), [new TopicPartition("idle", i)]);
        }

        Assert.Equal(25, purgatory.Watched);
        time.Advance(TimeSpan.FromMilliseconds(10)); // all expire; nobody checks their keys
        Assert.Equal(0, purgatory.Delayed);
        Assert.Equal(0, purgatory.Watched);
    }

    [Fact]
    public async Task Concurrent_watchers_and_checkers_complete_every_operation_exactly_once()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time);
        long deadline = time.GetUtcNow().ToUnixTimeMilliseconds() + 60_000;
        const int Count = 2000;
        var ops = new TestOperation[Count];
        for (int i = 0; i < Count; i++)
        {
            ops[i] = new TestOperation(deadline);
        }

        var keys = new[] { new TopicPartition("c", 0), new TopicPartition("c", 1), new TopicPartition("c", 2) };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task producer = Task.Run(() =>
        {
            for (int i = 0; i < Count; i++)
            {
                ops[i].Ready = true; // an "append" happened before or while the operation is watched
                purgatory.TryCompleteElseWatch(ops[i], [keys[i % 3]]);
            }
        });
        Task checker = Task.Run(() =>
        {
            while (!producer.IsCompleted && !cts.IsCancellationRequested)
            {
                foreach (TopicPartition key in keys)
                {
                    purgatory.CheckAndComplete(key);
                }
            }
        });
        await Task.WhenAll(producer, checker).WaitAsync(cts.Token);
        foreach (TopicPartition key in keys)
        {
            purgatory.CheckAndComplete(key);
        }

        Assert.All(ops, o => Assert.Equal(1, o.Completions));
        Assert.Equal(0, purgatory.Delayed);
    }

    [Fact]
    public void Dispose_completes_what_is_still_waiting()
    {
        var time = new FakeTimeProvider();
        var purgatory = new DelayedOperationPurgatory<TestOperation>("test", time);
        var op = new TestOperation(time.GetUtcNow().ToUnixTimeMilliseconds() + 1000);
        purgatory.TryCompleteElseWatch(op, [Key]);
        purgatory.Dispose();
        Assert.Equal(1, op.Completions);
    }

    [Fact]
    public async Task DelayedFetch_signals_through_its_task_when_woken()
    {
        var time = new FakeTimeProvider();
        using var purgatory = new DelayedOperationPurgatory<DelayedFetch>("fetch", time);
        var condition = new FlagCondition();
        var fetch = new DelayedFetch(time.GetUtcNow().ToUnixTimeMilliseconds() + 500, condition);
        Assert.False(purgatory.TryCompleteElseWatch(fetch, [Key]));
        Assert.False(fetch.Completion.IsCompleted);
        condition.Flag = true;
        purgatory.CheckAndComplete(Key);
        await fetch.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        var late = new DelayedFetch(time.GetUtcNow().ToUnixTimeMilliseconds() + 500, new FlagCondition());
        purgatory.TryCompleteElseWatch(late, [Key]);
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(late.Completion.IsCompleted);
    }

    private sealed class FlagCondition : IDelayedFetchCondition
    {
        public volatile bool Flag;

        public bool IsSatisfied() => Flag;
    }

    internal sealed class TestOperation(long deadlineMs) : DelayedOperation(deadlineMs)
    {
        private int _completions;

        public volatile bool Ready;

        public bool Expired { get; private set; }

        public int Completions => Volatile.Read(ref _completions);

        public override bool TryComplete() => Ready && ForceComplete();

        public override void OnExpiration() => Expired = true;

        protected override void OnComplete() => Interlocked.Increment(ref _completions);
    }
}
