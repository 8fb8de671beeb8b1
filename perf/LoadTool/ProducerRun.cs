using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace Broker.LoadTool;

internal sealed class ProducerOptions
{
    public required string Topic { get; init; }
    public long NumRecords { get; init; }
    public int RecordSize { get; init; }
    /// <summary>Records per second; -1 = unthrottled (Kafka's --throughput).</summary>
    public double Throughput { get; init; } = -1;
    public required Dictionary<string, string> Config { get; init; }
    /// <summary>Payloads from --payload-file; null = one random payload reused (as Kafka does).</summary>
    public List<byte[]>? Payloads { get; init; }
    public bool PrintMetrics { get; init; }
    /// <summary>Write Stopwatch ticks into the first 8 payload bytes (end-to-end latency).</summary>
    public bool EmbedSendTicks { get; init; }
    /// <summary>Bytes sent to one partition before moving to the next: KIP-794's uniform sticky
    /// partitioning, with Kafka's batch.size default of 16384.</summary>
    public int StickyBytes { get; init; } = 16384;
    public TextWriter Output { get; init; } = Console.Out;
    public int ReportIntervalMs { get; init; } = 5000;
}

internal sealed class ProducerResult
{
    public long Records;
    public long Bytes;
    public long Errors;
    public string? FirstError;
    public long OutOfOrderReports;
    public double ElapsedSeconds;
    public double RecordsPerSecond => ElapsedSeconds > 0 ? Records / ElapsedSeconds : 0;
    public double MegabytesPerSecond => ElapsedSeconds > 0 ? Bytes / (1024.0 * 1024.0) / ElapsedSeconds : 0;
    public double AvgLatencyMs;
    public double MaxLatencyMs;
    public double P50Ms, P95Ms, P99Ms, P999Ms;

    /// <summary>kafka-producer-perf-test's final line; percentiles carry two decimals because
    /// we measure in microseconds (Kafka prints whole milliseconds).</summary>
    public string SummaryLine() => string.Format(CultureInfo.InvariantCulture,
        "{0} records sent, {1:F6} records/sec ({2:F2} MB/sec), {3:F2} ms avg latency, {4:F2} ms max latency, " +
        "{5:F2} ms 50th, {6:F2} ms 95th, {7:F2} ms 99th, {8:F2} ms 99.9th.",
        Records, RecordsPerSecond, MegabytesPerSecond, AvgLatencyMs, MaxLatencyMs, P50Ms, P95Ms, P99Ms, P999Ms);
}

/// <summary>
/// The send loop of producer-perf (Kafka's ProducerPerformance): produce NumRecords records
/// of RecordSize bytes, optionally throttled, measure latency from the Produce call to the
/// delivery report. The loop allocates nothing per record itself: one Message object and one
/// payload array are reused (librdkafka copies the value during Produce), the delivery
/// handler is one cached delegate, send times live in per-partition rings, latencies in a
/// preallocated histogram. (Confluent.Kafka allocates internally per Produce; that is part
/// of the client being measured, identically for every broker.)
/// </summary>
internal sealed class ProducerRun
{
    private readonly ProducerOptions _options;
    private readonly LatencyHistogram _histogram = new();
    private readonly Action<DeliveryReport<Null, byte[]>> _onDelivery;
    private readonly object _gate = new();
    private SendTimeRing[] _rings = [];
    private long[] _lastOffsets = [];
    private long _maxInFlight;

    // Written by the send loop.
    private long _sent;
    // Written by the delivery-report thread; read by the send loop and the reporter.
    private long _completed;
    private long _okBytes;
    private long _errors;
    private long _outOfOrder;
    private long _windowMaxMicros;
    private long _lastCompletionTicks;
    private string? _firstError;
    private volatile bool _senderWaiting;
    private string? _lastStatistics;

    public ProducerRun(ProducerOptions options)
    {
        _options = options;
        _onDelivery = OnDelivery;
    }

    public ProducerResult Run()
    {
        var o = _options;
        var config = new Dictionary<string, string>(o.Config, StringComparer.Ordinal);
        if (o.PrintMetrics && !config.ContainsKey("statistics.interval.ms")) config["statistics.interval.ms"] = "1000";
        _maxInFlight = config.TryGetValue("queue.buffering.max.messages", out var q)
            ? long.Parse(q, CultureInfo.InvariantCulture) : 100000; // librdkafka's default

        var builder = new ProducerBuilder<Null, byte[]>(config)
            .SetErrorHandler((_, e) => { if (e.IsFatal) Console.Error.WriteLine($"fatal producer error: {e}"); });
        if (o.PrintMetrics) builder.SetStatisticsHandler((_, json) => _lastStatistics = json);
        using var producer = builder.Build();

        var partitionCount = Topics.PartitionCount(producer, o.Topic, TimeSpan.FromSeconds(30));
        var partitions = new TopicPartition[partitionCount];
        _rings = new SendTimeRing[partitionCount];
        _lastOffsets = new long[partitionCount];
        for (var p = 0; p < partitionCount; p++)
        {
            partitions[p] = new TopicPartition(o.Topic, new Partition(p));
            _rings[p] = new SendTimeRing((int)Math.Min(_maxInFlight + 1, int.MaxValue / 2));
            _lastOffsets[p] = -1;
        }

        var payloads = o.Payloads ?? [RandomPayload(o.RecordSize)];
        if (o.EmbedSendTicks && payloads[0].Length < 8) throw new UsageException("end-to-end needs records of at least 8 bytes");
        var random = new Random(42);
        var message = new Message<Null, byte[]> { Value = payloads[0] };
        var throttle = new Throttle(o.Throughput);

        var start = Stopwatch.GetTimestamp();
        Volatile.Write(ref _lastCompletionTicks, start);
        long previousCompleted = 0, previousBytes = 0, previousTicks = start;
        double previousLatencyMicros = 0;
        using var reporter = new Timer(_ => ReportWindow(), null, o.ReportIntervalMs, o.ReportIntervalMs);
        void ReportWindow()
        {
            var now = Stopwatch.GetTimestamp();
            var completed = Volatile.Read(ref _completed);
            var bytes = Volatile.Read(ref _okBytes);
            double latencyMicros = _histogram.SumMicros;
            var count = completed - previousCompleted;
            var seconds = Stopwatch.GetElapsedTime(previousTicks, now).TotalSeconds;
            var maxMicros = Interlocked.Exchange(ref _windowMaxMicros, 0);
            o.Output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{0} records sent, {1:F1} records/sec ({2:F2} MB/sec), {3:F1} ms avg latency, {4:F1} ms max latency.",
                count, count / seconds, (bytes - previousBytes) / (1024.0 * 1024.0) / seconds,
                count == 0 ? 0 : (latencyMicros - previousLatencyMicros) / count / 1000.0, maxMicros / 1000.0));
            previousCompleted = completed; previousBytes = bytes; previousTicks = now; previousLatencyMicros = latencyMicros;
        }

        var current = 0;
        long bytesOnCurrent = 0;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (long i = 0; i < o.NumRecords; i++)
        {
            if (payloads.Count > 1) message.Value = payloads[random.Next(payloads.Count)];
            var value = message.Value;
            if (bytesOnCurrent >= o.StickyBytes)
            {
                current = current + 1 == partitionCount ? 0 : current + 1;
                bytesOnCurrent = 0;
            }
            WaitForSlot();
            var now = Stopwatch.GetTimestamp();
            if (o.EmbedSendTicks) BinaryPrimitives.WriteInt64LittleEndian(value, now);
            var ring = _rings[current];
            ring.Push(now);
            Volatile.Write(ref _sent, _sent + 1);
            while (true)
            {
                try
                {
                    producer.Produce(partitions[current], message, _onDelivery);
                    break;
                }
                catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // queue.buffering.max.kbytes reached before our record-count limit: wait
                    // for a delivery, as Kafka's producer blocks when buffer.memory is full.
                    WaitForCompletions(Volatile.Read(ref _completed) + 1);
                }
                catch
                {
                    ring.Retract();
                    Volatile.Write(ref _sent, _sent - 1);
                    throw;
                }
            }
            bytesOnCurrent += value.Length;
            throttle.AfterSend(i + 1, start);
        }

        var allocatedPerRecord = (double)(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / Math.Max(1, o.NumRecords);
        // Wait for every delivery report (Kafka's producer.close()). Not Flush(): it would
        // serve delivery reports on this thread too, and OnDelivery must have one thread.
        WaitForCompletions(_sent);
        var end = Volatile.Read(ref _lastCompletionTicks);
        reporter.Dispose();

        var result = new ProducerResult
        {
            Records = _sent - Volatile.Read(ref _errors),
            Bytes = Volatile.Read(ref _okBytes),
            Errors = Volatile.Read(ref _errors),
            FirstError = _firstError,
            OutOfOrderReports = Volatile.Read(ref _outOfOrder),
            ElapsedSeconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds,
            AvgLatencyMs = _histogram.MeanMicros / 1000.0,
            MaxLatencyMs = _histogram.MaxMicros / 1000.0,
            P50Ms = _histogram.ValueAtQuantile(0.5) / 1000.0,
            P95Ms = _histogram.ValueAtQuantile(0.95) / 1000.0,
            P99Ms = _histogram.ValueAtQuantile(0.99) / 1000.0,
            P999Ms = _histogram.ValueAtQuantile(0.999) / 1000.0,
        };
        o.Output.WriteLine(result.SummaryLine());
        if (result.Errors > 0)
            o.Output.WriteLine($"{result.Errors} records failed; first error: {result.FirstError}");
        if (result.OutOfOrderReports > 0)
            o.Output.WriteLine($"warning: {result.OutOfOrderReports} delivery reports out of offset order (retries?); their latencies are approximate");
        if (o.PrintMetrics)
        {
            // Everything allocated on the send thread is Confluent.Kafka's (its per-Produce
            // delivery shim); the loop itself allocates nothing.
            o.Output.WriteLine($"send thread allocated {allocatedPerRecord:F1} bytes/record (inside Confluent.Kafka's Produce)");
            if (_lastStatistics is not null) Metrics.PrintProducer(_lastStatistics, o.Output);
        }
        return result;
    }

    /// <summary>Bounds records in flight to queue.buffering.max.messages so librdkafka never
    /// rejects a record with QueueFull (exceptions would allocate in the loop).</summary>
    private void WaitForSlot()
    {
        if (_sent - Volatile.Read(ref _completed) < _maxInFlight) return;
        WaitForCompletions(_sent - _maxInFlight + 1);
    }

    /// <summary>Blocks the send loop until at least <paramref name="completed"/> records have
    /// their delivery report. Reports are served by Confluent.Kafka's background poll thread
    /// only (we never call Poll or Flush), which keeps OnDelivery single-threaded.</summary>
    private void WaitForCompletions(long completed)
    {
        if (Volatile.Read(ref _completed) >= completed) return;
        lock (_gate)
        {
            _senderWaiting = true;
            // The timeout guards against a pulse sent between the check and the wait.
            while (Volatile.Read(ref _completed) < completed)
                Monitor.Wait(_gate, 10);
            _senderWaiting = false;
        }
    }

    private void OnDelivery(DeliveryReport<Null, byte[]> report)
    {
        var now = Stopwatch.GetTimestamp();
        var partition = report.Partition.Value;
        var sendTicks = (uint)partition < (uint)_rings.Length ? _rings[partition].Pop() : -1;
        if (sendTicks < 0)
            throw new InvalidOperationException($"delivery report for partition {partition} without a record in flight");
        if (report.Error.IsError)
        {
            _firstError ??= report.Error.ToString();
            Volatile.Write(ref _errors, _errors + 1);
        }
        else
        {
            var offset = report.Offset.Value;
            if (offset <= _lastOffsets[partition]) Volatile.Write(ref _outOfOrder, _outOfOrder + 1);
            _lastOffsets[partition] = offset;
            var micros = (now - sendTicks) * 1_000_000 / Stopwatch.Frequency;
            _histogram.Record(micros);
            if (micros > Volatile.Read(ref _windowMaxMicros)) Volatile.Write(ref _windowMaxMicros, micros);
            Volatile.Write(ref _okBytes, _okBytes + report.Message.Value.Length);
        }
        Volatile.Write(ref _lastCompletionTicks, now);
        Volatile.Write(ref _completed, _completed + 1);
        if (_senderWaiting)
            lock (_gate) Monitor.PulseAll(_gate);
    }

    /// <summary>Kafka's payload when no file is given: random upper-case letters, generated once.</summary>
    public static byte[] RandomPayload(int size)
    {
        var payload = new byte[size];
        var random = new Random(7);
        for (var i = 0; i < size; i++) payload[i] = (byte)('A' + random.Next(26));
        return payload;
    }

    /// <summary>Reads --payload-file split by the delimiter, as Kafka's tool does.</summary>
    public static List<byte[]> ReadPayloadFile(string path, string delimiter)
    {
        var text = File.ReadAllText(path);
        var list = new List<byte[]>();
        foreach (var part in text.Split(delimiter))
            if (part.Length > 0) list.Add(System.Text.Encoding.UTF8.GetBytes(part));
        if (list.Count == 0) throw new UsageException($"{path} holds no payloads");
        return list;
    }
}

/// <summary>
/// Kafka's ThroughputThrottler in spirit: when ahead of the target rate, sleep off the lead
/// once it exceeds 2 ms (shorter sleeps are not honoured precisely by the OS).
/// </summary>
internal readonly struct Throttle(double recordsPerSecond)
{
    private const double MinSleepSeconds = 0.002;

    public void AfterSend(long sent, long startTicks)
    {
        if (recordsPerSecond <= 0) return;
        var due = sent / recordsPerSecond;
        var elapsed = Stopwatch.GetElapsedTime(startTicks).TotalSeconds;
        var lead = due - elapsed;
        if (lead >= MinSleepSeconds) Thread.Sleep(TimeSpan.FromSeconds(lead));
    }
}
