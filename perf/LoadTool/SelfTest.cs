using System.Diagnostics;

namespace Broker.LoadTool;

/// <summary>
/// `selftest`: checks the tool's own measuring parts (tests/ has no project for perf/), then
/// a short produce/consume/end-to-end round trip against the mock cluster. Exit code 1 on the
/// first failed check. Bounded: the whole run takes well under a minute.
/// </summary>
internal static class SelfTest
{
    public static int Run()
    {
        var failures = 0;
        void Check(bool ok, string what)
        {
            Console.WriteLine((ok ? "ok   " : "FAIL ") + what);
            if (!ok) failures++;
        }

        // Histogram quantiles against exact order statistics, within the 1/128 bucket width.
        var random = new Random(1);
        var values = new long[200_000];
        var histogram = new LatencyHistogram();
        for (var i = 0; i < values.Length; i++)
        {
            // Log-uniform over 1 us .. 10 s, the range latencies span.
            values[i] = (long)Math.Exp(random.NextDouble() * Math.Log(10_000_000));
            histogram.Record(values[i]);
        }
        Array.Sort(values);
        foreach (var q in new[] { 0.5, 0.9, 0.99, 0.999 })
        {
            var exact = values[(int)(q * values.Length)];
            var measured = histogram.ValueAtQuantile(q);
            Check(measured >= exact && measured <= exact + exact / 128 + 1,
                $"histogram q{q}: exact {exact} us, histogram {measured} us");
        }
        Check(histogram.MaxMicros == values[^1], "histogram max is exact");
        Check(histogram.Count == values.Length, "histogram count");

        // Ring: FIFO, retract, capacity.
        var ring = new SendTimeRing(4);
        ring.Push(1); ring.Push(2); ring.Push(3); ring.Retract(); ring.Push(4);
        Check(ring.Pop() == 1 && ring.Pop() == 2 && ring.Pop() == 4 && ring.Pop() == -1, "send-time ring order and retract");

        // Kafka-style argument parsing.
        var line = new CommandLine(["--throughput", "-1", "--producer-props", "acks=all", "linger.ms=0", "--print-metrics"]);
        var props = new Dictionary<string, string>();
        CommandLine.AddPairs(line.List("producer-props"), props);
        Check(line.Double("throughput", 0) == -1 && props["acks"] == "all" && props["linger.ms"] == "0" && line.Flag("print-metrics"),
            "command line: negative values, k=v lists, flags");

        // Round trip against the mock: every record produced is delivered and consumed once.
        var quiet = TextWriter.Null;
        using (var mock = new MockCluster(1))
        {
            mock.CreateTopic("selftest", 3);
            var produced = new ProducerRun(new ProducerOptions
            {
                Topic = "selftest", NumRecords = 20_000, RecordSize = 100,
                Config = new() { ["bootstrap.servers"] = mock.BootstrapServers },
                Output = quiet,
            }).Run();
            Check(produced.Records == 20_000 && produced.Errors == 0 && produced.Bytes == 2_000_000,
                $"producer delivered {produced.Records} records, {produced.Bytes} bytes, {produced.Errors} errors");
            Check(produced.P50Ms > 0 && produced.P50Ms <= produced.P99Ms && produced.P99Ms <= produced.MaxLatencyMs + 0.001,
                $"producer latency ordered: p50 {produced.P50Ms} <= p99 {produced.P99Ms} <= max {produced.MaxLatencyMs}");
            var consumed = ConsumerRun.Run(new ConsumerOptions
            {
                Topic = "selftest", Messages = 20_000, Group = "selftest", TimeoutMs = 10_000,
                Config = new() { ["bootstrap.servers"] = mock.BootstrapServers },
                Output = quiet,
            });
            Check(consumed.Messages == 20_000 && consumed.Bytes == 2_000_000 && !consumed.TimedOut,
                $"consumer read {consumed.Messages} records, {consumed.Bytes} bytes");

            mock.CreateTopic("selftest-e2e", 1);
            var start = Stopwatch.GetTimestamp();
            var e2e = EndToEndRun.Run(new EndToEndOptions
            {
                BootstrapServers = mock.BootstrapServers, Topic = "selftest-e2e",
                RateMegabytesPerSecond = 5, RecordSize = 1024, DurationSeconds = 3, WarmupSeconds = 1,
                ProducerConfig = new(), ConsumerConfig = new() { ["fetch.wait.max.ms"] = "5" },
                Output = quiet,
            });
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Check(e2e.Measured > 0 && e2e.P50Ms > 0 && e2e.P50Ms < 1000,
                $"end-to-end measured {e2e.Measured} records, p50 {e2e.P50Ms} ms");
            Check(Math.Abs(e2e.Producer.MegabytesPerSecond - 5) < 0.5 && seconds < 20,
                $"end-to-end throttled to {e2e.Producer.MegabytesPerSecond:F2} MB/s (target 5)");
        }
        Console.WriteLine(failures == 0 ? "selftest passed" : $"selftest: {failures} check(s) failed");
        return failures == 0 ? 0 : 1;
    }
}
