using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace Broker.LoadTool;

internal sealed class EndToEndOptions
{
    public required string BootstrapServers { get; init; }
    public required string Topic { get; init; }
    public double RateMegabytesPerSecond { get; init; } = 50;
    public int RecordSize { get; init; } = 1024;
    public double DurationSeconds { get; init; } = 10;
    /// <summary>Records sent in the first seconds are left out of the percentiles:
    /// connection set-up and the consumer's first fetch are not steady-state latency.</summary>
    public double WarmupSeconds { get; init; } = 1;
    public required Dictionary<string, string> ProducerConfig { get; init; }
    public required Dictionary<string, string> ConsumerConfig { get; init; }
    public TextWriter Output { get; init; } = Console.Out;
}

internal sealed class EndToEndResult
{
    public required ProducerResult Producer;
    public long Consumed;
    public long Measured;
    public double AvgMs, MaxMs, P50Ms, P95Ms, P99Ms, P999Ms;

    public string SummaryLine() => string.Format(CultureInfo.InvariantCulture,
        "end-to-end: {0} records consumed ({1} measured after warm-up) at {2:F2} MB/sec produced, " +
        "{3:F2} ms avg latency, {4:F2} ms max latency, {5:F2} ms 50th, {6:F2} ms 95th, {7:F2} ms 99th, {8:F2} ms 99.9th.",
        Consumed, Measured, Producer.MegabytesPerSecond, AvgMs, MaxMs, P50Ms, P95Ms, P99Ms, P999Ms);
}

/// <summary>
/// end-to-end: produce at a fixed byte rate while a consumer in this process reads the topic;
/// each record carries its send time (Stopwatch ticks, first 8 payload bytes), so latency is
/// produce call -> record returned by Consume. Unlike Kafka's EndToEndLatency (one record in
/// flight at a time) this measures latency under a sustained load, which is what a broker's
/// fetch long-poll and purgatory handling show up in.
/// </summary>
internal static class EndToEndRun
{
    public static EndToEndResult Run(EndToEndOptions o)
    {
        if (o.RecordSize < 8) throw new UsageException("--record-size must be at least 8 for end-to-end");
        var recordsPerSecond = o.RateMegabytesPerSecond * 1024 * 1024 / o.RecordSize;
        var numRecords = (long)(recordsPerSecond * o.DurationSeconds);

        var consumerConfig = new Dictionary<string, string>(o.ConsumerConfig, StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = o.BootstrapServers,
        };
        consumerConfig.TryAdd("group.id", "loadtool-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        consumerConfig.TryAdd("enable.auto.commit", "false");
        // Return records as soon as they exist: the defaults (fetch.wait.max.ms=500 with
        // fetch.min.bytes=1) already do, Kafka's fetch long-poll answers on first data.
        using var consumer = new ConsumerBuilder<Ignore, long>(consumerConfig)
            .SetValueDeserializer(SendTicksDeserializer.Instance)
            .Build();
        int partitionCount;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = o.BootstrapServers }).Build())
            partitionCount = Topics.PartitionCount(admin, o.Topic, TimeSpan.FromSeconds(30));
        var assignment = new List<TopicPartitionOffset>(partitionCount);
        // Start at each partition's current high watermark, queried synchronously, so that no
        // record of this run is skipped and none from an earlier run is read (Offset.End would
        // be resolved asynchronously, possibly after the first records were sent).
        for (var p = 0; p < partitionCount; p++)
        {
            var tp = new TopicPartition(o.Topic, p);
            assignment.Add(new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High));
        }
        consumer.Assign(assignment);

        var histogram = new LatencyHistogram();
        long consumed = 0;
        var producerDone = false;
        var warmupEndTicks = Stopwatch.GetTimestamp() + (long)(o.WarmupSeconds * Stopwatch.Frequency);
        var consumerThread = new Thread(() =>
        {
            var idleSince = Stopwatch.GetTimestamp();
            while (true)
            {
                var record = consumer.Consume(100);
                var now = Stopwatch.GetTimestamp();
                if (record is null)
                {
                    // Records produced before Offset.End resolved are never seen; stop once idle.
                    if (Volatile.Read(ref producerDone) && Stopwatch.GetElapsedTime(idleSince, now).TotalSeconds > 3) break;
                    continue;
                }
                idleSince = now;
                consumed++;
                var sendTicks = record.Message.Value;
                if (sendTicks >= warmupEndTicks && sendTicks != long.MaxValue) histogram.Record((now - sendTicks) * 1_000_000 / Stopwatch.Frequency);
                if (Volatile.Read(ref producerDone) && consumed >= numRecords) break;
            }
        }) { Name = "e2e-consumer", IsBackground = true };
        consumerThread.Start();

        var producer = new ProducerRun(new ProducerOptions
        {
            Topic = o.Topic,
            NumRecords = numRecords,
            RecordSize = o.RecordSize,
            Throughput = recordsPerSecond,
            Config = new Dictionary<string, string>(o.ProducerConfig, StringComparer.Ordinal) { ["bootstrap.servers"] = o.BootstrapServers },
            EmbedSendTicks = true,
            Output = o.Output,
        }).Run();
        Volatile.Write(ref producerDone, true);
        consumerThread.Join();
        consumer.Close();

        var result = new EndToEndResult
        {
            Producer = producer,
            Consumed = consumed,
            Measured = histogram.Count,
            AvgMs = histogram.MeanMicros / 1000.0,
            MaxMs = histogram.MaxMicros / 1000.0,
            P50Ms = histogram.ValueAtQuantile(0.5) / 1000.0,
            P95Ms = histogram.ValueAtQuantile(0.95) / 1000.0,
            P99Ms = histogram.ValueAtQuantile(0.99) / 1000.0,
            P999Ms = histogram.ValueAtQuantile(0.999) / 1000.0,
        };
        o.Output.WriteLine(result.SummaryLine());
        if (consumed < producer.Records)
            o.Output.WriteLine($"warning: consumed {consumed} of {producer.Records} records produced");
        return result;
    }
}

/// <summary>Reads the send time written by the producer into the first 8 payload bytes.</summary>
internal sealed class SendTicksDeserializer : IDeserializer<long>
{
    public static readonly SendTicksDeserializer Instance = new();
    public long Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) =>
        isNull || data.Length < 8 ? long.MaxValue : BinaryPrimitives.ReadInt64LittleEndian(data);
}
