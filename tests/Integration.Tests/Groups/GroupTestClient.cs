using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// A Confluent.Kafka consumer polling on its own thread, recording its current assignment from
/// the rebalance callbacks so a test can poll for the group's state with a deadline.
/// </summary>
internal sealed class PollingConsumer : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly object _gate = new();
    private HashSet<TopicPartition> _assigned = new();
    private int _disposed;

    private readonly List<TopicPartition> _revoked = new();
    private int _assignEvents;

    public PollingConsumer(ConsumerConfig config, string topic) : this(config, new[] { topic }) { }

    public PollingConsumer(ConsumerConfig config, IEnumerable<string> topics)
    {
        Consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => { lock (_gate) { _assigned.UnionWith(partitions); if (partitions.Count > 0) _assignEvents++; } })
            .SetPartitionsRevokedHandler((_, partitions) => { lock (_gate) { _assigned.ExceptWith(partitions.Select(p => p.TopicPartition)); _revoked.AddRange(partitions.Select(p => p.TopicPartition)); } })
            .SetPartitionsLostHandler((_, partitions) => { lock (_gate) { _assigned.ExceptWith(partitions.Select(p => p.TopicPartition)); _revoked.AddRange(partitions.Select(p => p.TopicPartition)); } })
            .SetErrorHandler((_, error) => Errors.Add(error))
            .Build();
        Consumer.Subscribe(topics);
        _thread = new Thread(Run) { IsBackground = true, Name = "consumer-" + config.GroupId };
        _thread.Start();
    }

    public IConsumer<byte[], byte[]> Consumer { get; }
    public ConcurrentBag<Error> Errors { get; } = new();
    public ConcurrentQueue<ConsumeResult<byte[], byte[]>> Received { get; } = new();

    public HashSet<TopicPartition> Assigned
    {
        get { lock (_gate) return new HashSet<TopicPartition>(_assigned); }
    }

    /// <summary>Every partition ever taken away (revoked or lost), in callback order, duplicates kept.</summary>
    public List<TopicPartition> Revoked
    {
        get { lock (_gate) return new List<TopicPartition>(_revoked); }
    }

    /// <summary>How many assignment callbacks brought at least one partition.</summary>
    public int AssignEvents
    {
        get { lock (_gate) return _assignEvents; }
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var result = Consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result is not null && !result.IsPartitionEOF) Received.Enqueue(result);
            }
            catch (ConsumeException) { }
            catch (ObjectDisposedException) { return; }
            catch (KafkaException) when (_stop.IsCancellationRequested) { return; }
        }
    }

    /// <summary>Stops polling without leaving the group: the coordinator must notice by the session timeout.</summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        // Dispose without Close: librdkafka is torn down; no LeaveGroup is promised.
        Consumer.Dispose();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        try { Consumer.Close(); } catch (KafkaException) { }
        Consumer.Dispose();
    }
}

internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Condition not met in " + timeout + ": " + describe());
            await Task.Delay(100);
        }
    }

    public static string Describe(IEnumerable<PollingConsumer> consumers) =>
        string.Join(" | ", consumers.Select(c => "[" + string.Join(",", c.Assigned.Select(tp => tp.Partition.Value).OrderBy(p => p)) + "]"));

    /// <summary>Every partition assigned exactly once across the consumers.</summary>
    public static bool IsExactSplit(IReadOnlyList<PollingConsumer> consumers, int partitions, int minEach)
    {
        var all = new List<TopicPartition>();
        foreach (var c in consumers)
        {
            var a = c.Assigned;
            if (a.Count < minEach) return false;
            all.AddRange(a);
        }
        return all.Count == partitions && all.Distinct().Count() == partitions;
    }
}
