using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace Broker.LoadTool;

internal sealed class ConsumerOptions
{
    public required string Topic { get; init; }
    public long Messages { get; init; }
    /// <summary>Kafka's --fetch-size: bytes fetched per partition per request.</summary>
    public int FetchSize { get; init; } = 1024 * 1024;
    public required string Group { get; init; }
    /// <summary>Kafka's --timeout: give up when no record arrives for this long.</summary>
    public int TimeoutMs { get; init; } = 10_000;
    public required Dictionary<string, string> Config { get; init; }
    public bool HideHeader { get; init; }
    public bool PrintMetrics { get; init; }
    /// <summary>For librdkafka's mock cluster, which keeps only the newest 5 MiB (or 100000
    /// batches) of each partition: when every partition has been read up to its high
    /// watermark, seek back to the low watermark and read the retained window again, until
    /// Messages records were consumed. Assumes no producer writes meanwhile.</summary>
    public bool RewindWhenDrained { get; init; }
    /// <summary>Assign all partitions from the beginning instead of subscribing: no group
    /// coordinator needed (rebalance.time.ms is then 0).</summary>
    public bool Assign { get; init; }
    public TextWriter Output { get; init; } = Console.Out;
}

internal sealed class ConsumerResult
{
    public DateTime Start, End;
    public long Messages, Bytes;
    public long RebalanceMs, FetchMs;
    public bool TimedOut;
    public double TotalSeconds => (End - Start).TotalSeconds;
    public double Megabytes => Bytes / (1024.0 * 1024.0);
    public double MegabytesPerSecond => TotalSeconds > 0 ? Megabytes / TotalSeconds : 0;
    public double MessagesPerSecond => TotalSeconds > 0 ? Messages / TotalSeconds : 0;
    public double FetchMegabytesPerSecond => FetchMs > 0 ? Megabytes * 1000.0 / FetchMs : 0;
    public double FetchMessagesPerSecond => FetchMs > 0 ? Messages * 1000.0 / FetchMs : 0;

    public const string Header =
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";

    /// <summary>kafka-consumer-perf-test's result line (same columns, date format and precision).</summary>
    public string Line() => string.Format(CultureInfo.InvariantCulture,
        "{0:yyyy-MM-dd HH:mm:ss:fff}, {1:yyyy-MM-dd HH:mm:ss:fff}, {2:F4}, {3:F4}, {4}, {5:F4}, {6}, {7}, {8:F4}, {9:F4}",
        Start, End, Megabytes, MegabytesPerSecond, Messages, MessagesPerSecond, RebalanceMs, FetchMs,
        FetchMegabytesPerSecond, FetchMessagesPerSecond);
}

/// <summary>
/// consumer-perf (Kafka's ConsumerPerformance): subscribe with a group, consume until
/// --messages records or --timeout without a record. Values are not copied out of
/// librdkafka: the value deserializer returns just the length, which is all we count.
/// rebalance.time.ms is the time from subscribe to the first assignment; fetch.* exclude it,
/// as in Kafka.
/// </summary>
internal static class ConsumerRun
{
    public static ConsumerResult Run(ConsumerOptions o)
    {
        var config = new Dictionary<string, string>(o.Config, StringComparer.Ordinal)
        {
            ["group.id"] = o.Group,
            ["max.partition.fetch.bytes"] = o.FetchSize.ToString(CultureInfo.InvariantCulture),
        };
        config.TryAdd("auto.offset.reset", "earliest");
        if (o.Assign) config["enable.auto.commit"] = "false";
        // A rewind waits for the fetch already in flight at the end of the window, which the
        // broker holds for fetch.wait.max.ms (500 ms) as nothing new arrives: keep it short.
        if (o.RewindWhenDrained) config["fetch.wait.max.ms"] = "5";
        string? lastStatistics = null;
        if (o.PrintMetrics) config.TryAdd("statistics.interval.ms", "1000");

        long assignedTicks = 0;
        var builder = new ConsumerBuilder<Ignore, int>(config)
            .SetValueDeserializer(LengthDeserializer.Instance)
            .SetPartitionsAssignedHandler((_, _) => { if (assignedTicks == 0) assignedTicks = Stopwatch.GetTimestamp(); })
            .SetErrorHandler((_, e) => { if (e.IsFatal) Console.Error.WriteLine($"fatal consumer error: {e}"); });
        if (o.PrintMetrics) builder.SetStatisticsHandler((_, json) => lastStatistics = json);
        using var consumer = builder.Build();

        var window = o.RewindWhenDrained ? RetainedWindow.Query(consumer, o.Topic) : null;
        var startWall = DateTime.Now;
        var start = Stopwatch.GetTimestamp();
        if (o.Assign)
        {
            int partitions;
            using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
                partitions = Topics.PartitionCount(admin, o.Topic, TimeSpan.FromSeconds(30));
            var assignment = new List<TopicPartitionOffset>(partitions);
            for (var p = 0; p < partitions; p++) assignment.Add(new TopicPartitionOffset(o.Topic, p, Offset.Beginning));
            consumer.Assign(assignment);
            assignedTicks = start;
        }
        else
        {
            consumer.Subscribe(o.Topic);
        }
        long messages = 0, bytes = 0;
        var lastConsumed = start;
        var timedOut = false;
        while (messages < o.Messages)
        {
            var record = consumer.Consume(100);
            var now = Stopwatch.GetTimestamp();
            if (record is null || record.IsPartitionEOF)
            {
                if (Stopwatch.GetElapsedTime(lastConsumed, now).TotalMilliseconds > o.TimeoutMs) { timedOut = true; break; }
                continue;
            }
            messages++;
            bytes += record.Message.Value;
            lastConsumed = now;
            window?.OnRecord(consumer, record.Partition.Value, record.Offset.Value);
        }
        // End at the last record, not after the idle timeout, so a short read is still a rate.
        var elapsedMs = (long)Stopwatch.GetElapsedTime(start, lastConsumed).TotalMilliseconds;
        var rebalanceMs = assignedTicks == 0 ? 0 : (long)Stopwatch.GetElapsedTime(start, assignedTicks).TotalMilliseconds;
        consumer.Close();

        var result = new ConsumerResult
        {
            Start = startWall,
            End = startWall.AddMilliseconds(elapsedMs),
            Messages = messages,
            Bytes = bytes,
            RebalanceMs = rebalanceMs,
            FetchMs = Math.Max(0, elapsedMs - rebalanceMs),
            TimedOut = timedOut,
        };
        if (timedOut)
            o.Output.WriteLine($"WARNING: Exiting before consuming the expected number of messages: timeout ({o.TimeoutMs} ms) exceeded. You can use the --timeout option to increase the timeout.");
        if (!o.HideHeader) o.Output.WriteLine(ConsumerResult.Header);
        o.Output.WriteLine(result.Line());
        if (lastStatistics is not null) o.Output.WriteLine(lastStatistics);
        if (window is not null && window.Passes > 1)
            o.Output.WriteLine($"note: read the retained window {window.Passes} times (the mock keeps the newest 5 MiB per partition)");
        return result;
    }
}

/// <summary>The offsets a partition retains, and which partitions have been read to the end
/// in the current pass (see <see cref="ConsumerOptions.RewindWhenDrained"/>).</summary>
internal sealed class RetainedWindow
{
    private readonly string _topic;
    private readonly long[] _low, _high;
    private readonly bool[] _drained;
    private int _remaining;
    public int Passes { get; private set; } = 1;

    private RetainedWindow(string topic, long[] low, long[] high)
    {
        _topic = topic; _low = low; _high = high;
        _drained = new bool[low.Length];
        Reset();
    }

    public static RetainedWindow Query<TKey, TValue>(IConsumer<TKey, TValue> consumer, string topic)
    {
        int partitions;
        using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
            partitions = Topics.PartitionCount(admin, topic, TimeSpan.FromSeconds(30));
        var low = new long[partitions];
        var high = new long[partitions];
        for (var p = 0; p < partitions; p++)
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            low[p] = w.Low.Value;
            high[p] = w.High.Value;
        }
        return new RetainedWindow(topic, low, high);
    }

    private void Reset()
    {
        _remaining = 0;
        for (var p = 0; p < _drained.Length; p++)
        {
            _drained[p] = _high[p] <= _low[p]; // empty partitions count as read
            if (!_drained[p]) _remaining++;
        }
    }

    public void OnRecord<TKey, TValue>(IConsumer<TKey, TValue> consumer, int partition, long offset)
    {
        if (_drained[partition] || offset + 1 < _high[partition]) return;
        _drained[partition] = true;
        if (--_remaining > 0) return;
        for (var p = 0; p < _low.Length; p++)
            if (_high[p] > _low[p]) consumer.Seek(new TopicPartitionOffset(_topic, p, _low[p]));
        Passes++;
        Reset();
    }
}

/// <summary>Returns a record value's length without copying it.</summary>
internal sealed class LengthDeserializer : IDeserializer<int>
{
    public static readonly LengthDeserializer Instance = new();
    public int Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => isNull ? 0 : data.Length;
}
