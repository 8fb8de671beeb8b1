using System.Globalization;
using Confluent.Kafka;

namespace Broker.LoadTool;

internal sealed class CompareOptions
{
    public string? BootstrapServers { get; init; }
    public int? BrokerPid { get; init; }
    public bool SkipMock { get; init; }
    public string Mode { get; init; } = "throughput"; // throughput | e2e
    public string Label { get; init; } = "";
    public string TopicPrefix { get; init; } = "loadtool";
    public int Partitions { get; init; } = 1;
    public long NumRecords { get; init; } = 500_000;
    public int RecordSize { get; init; } = 1024;
    public double Throughput { get; init; } = -1;
    public bool Consume { get; init; }
    public bool ConsumerAssign { get; init; }
    public double E2eRateMegabytesPerSecond { get; init; } = 50;
    public double E2eDurationSeconds { get; init; } = 10;
    public required Dictionary<string, string> ProducerConfig { get; init; }
    public required Dictionary<string, string> ConsumerConfig { get; init; }
    public string? MarkdownFile { get; init; }
}

internal sealed class TargetResult
{
    public required string Name;
    public ProducerResult? Produce;
    public ConsumerResult? Consume;
    public EndToEndResult? EndToEnd;
    public double? CpuSecondsPerGbIn;
    public double? CpuSecondsPerGbOut;
    public double? PeakRssMegabytes;
    /// <summary>CPU seconds per wall second over the produce phase: cores the broker kept busy.</summary>
    public double? CoresBusyProducing;
}

/// <summary>
/// compare: the same scenario against librdkafka's mock cluster (in this process) and then
/// against our broker, one after the other so they never compete for the two cores, and the
/// ratio ours/mock. For our broker it also reports CPU seconds per GB (utime+stime from
/// /proc/&lt;pid&gt;/stat around each phase) and peak RSS (VmHWM). For the mock the CPU is
/// the "rdk:mock" thread's. GB = 10^9 bytes of record values produced or consumed.
/// </summary>
internal static class Compare
{
    private static string? s_brokerFailure;

    public static void Run(CompareOptions o)
    {
        TargetResult? mock = null, ours = null;
        if (!o.SkipMock)
        {
            using var cluster = new MockCluster(1);
            Console.WriteLine($"== mock: librdkafka {Confluent.Kafka.Library.VersionString} mock cluster at {cluster.BootstrapServers} (in-process) ==");
            mock = RunTarget("mock", cluster.BootstrapServers, o,
                topic => cluster.CreateTopic(topic, o.Partitions),
                _ => { },
                () => cluster.ThreadId is { } tid ? ProcessStats.ThreadCpuSeconds(tid) : double.NaN,
                null);
        }
        if (o.BootstrapServers is not null)
        {
            Console.WriteLine($"== broker: {o.BootstrapServers}" + (o.BrokerPid is { } p ? $" (pid {p})" : "") + " ==");
            var pid = o.BrokerPid;
            try
            {
                ours = RunTarget("broker", o.BootstrapServers, o,
                    topic => Topics.Create(o.BootstrapServers, topic, o.Partitions, TimeSpan.FromSeconds(30)),
                    topic => Topics.TryDelete(o.BootstrapServers, topic),
                    pid is { } id ? () => ProcessStats.ProcessCpuSeconds(id) : null,
                    pid);
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException or IOException)
            {
                // Keep the mock's numbers and say what failed, rather than losing the row.
                s_brokerFailure = e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" ").Replace("|", "/");
                Console.WriteLine("broker run failed: " + s_brokerFailure);
            }
        }

        Console.WriteLine("== summary ==");
        if (o.Mode == "e2e") PrintE2eSummary(o, ours, mock); else PrintThroughputSummary(o, ours, mock);
    }

    private static TargetResult RunTarget(string name, string bootstrap, CompareOptions o,
        Action<string> createTopic, Action<string> deleteTopic, Func<double>? cpuSeconds, int? pid)
    {
        var topic = $"{o.TopicPrefix}-{name}-{Guid.NewGuid().ToString("N")[..8]}";
        createTopic(topic);
        var result = new TargetResult { Name = name };
        var producerConfig = new Dictionary<string, string>(o.ProducerConfig, StringComparer.Ordinal) { ["bootstrap.servers"] = bootstrap };
        var cpu0 = cpuSeconds?.Invoke();
        if (o.Mode == "e2e")
        {
            result.EndToEnd = EndToEndRun.Run(new EndToEndOptions
            {
                BootstrapServers = bootstrap,
                Topic = topic,
                RateMegabytesPerSecond = o.E2eRateMegabytesPerSecond,
                RecordSize = o.RecordSize,
                DurationSeconds = o.E2eDurationSeconds,
                ProducerConfig = o.ProducerConfig,
                ConsumerConfig = o.ConsumerConfig,
            });
            if (cpu0 is { } c0) result.CpuSecondsPerGbIn = PerGb(cpuSeconds!() - c0, result.EndToEnd.Producer.Bytes);
        }
        else
        {
            result.Produce = new ProducerRun(new ProducerOptions
            {
                Topic = topic,
                NumRecords = o.NumRecords,
                RecordSize = o.RecordSize,
                Throughput = o.Throughput,
                Config = producerConfig,
            }).Run();
            var cpu1 = cpuSeconds?.Invoke();
            if (cpu0 is { } c0 && cpu1 is { } c1)
            {
                result.CpuSecondsPerGbIn = PerGb(c1 - c0, result.Produce.Bytes);
                if (!double.IsNaN(c1 - c0) && result.Produce.ElapsedSeconds > 0)
                    result.CoresBusyProducing = (c1 - c0) / result.Produce.ElapsedSeconds;
            }
            if (o.Consume)
            {
                result.Consume = ConsumerRun.Run(new ConsumerOptions
                {
                    Topic = topic,
                    Messages = result.Produce.Records,
                    Group = "loadtool-" + Guid.NewGuid().ToString("N")[..8],
                    Config = new Dictionary<string, string>(o.ConsumerConfig, StringComparer.Ordinal) { ["bootstrap.servers"] = bootstrap },
                    RewindWhenDrained = name == "mock",
                    Assign = o.ConsumerAssign,
                });
                if (cpu1 is { } c1b) result.CpuSecondsPerGbOut = PerGb(cpuSeconds!() - c1b, result.Consume.Bytes);
            }
        }
        if (pid is { } p) result.PeakRssMegabytes = ProcessStats.PeakRssMegabytes(p);
        deleteTopic(topic);
        return result;
    }

    private static double? PerGb(double cpuSeconds, long bytes) =>
        bytes > 0 && !double.IsNaN(cpuSeconds) ? cpuSeconds / (bytes / 1e9) : null;

    private static void PrintThroughputSummary(CompareOptions o, TargetResult? ours, TargetResult? mock)
    {
        foreach (var t in new[] { mock, ours })
        {
            if (t is null) continue;
            Console.WriteLine($"{t.Name,-6} produce: {t.Produce!.SummaryLine()}");
            if (t.Consume is { } c) Console.WriteLine($"{t.Name,-6} consume: {c.Line()}");
            Console.WriteLine($"{t.Name,-6} cpu: {F(t.CpuSecondsPerGbIn)} s/GB produced ({F(t.CoresBusyProducing)} cores busy), {F(t.CpuSecondsPerGbOut)} s/GB consumed" +
                (t.PeakRssMegabytes is { } r ? $", peak RSS (VmHWM) {r:F0} MiB" : ""));
        }
        var produceRatio = Ratio(ours?.Produce?.MegabytesPerSecond, mock?.Produce?.MegabytesPerSecond);
        var consumeRatio = Ratio(ours?.Consume?.FetchMegabytesPerSecond, mock?.Consume?.FetchMegabytesPerSecond);
        var p99Ratio = Ratio(ours?.Produce?.P99Ms, mock?.Produce?.P99Ms);
        Console.WriteLine($"ratio ours/mock: produce MB/sec {F(produceRatio)}, produce p99 latency {F(p99Ratio)}, consume fetch.MB.sec {F(consumeRatio)}");

        if (o.MarkdownFile is null) return;
        var row = string.Join(" | ",
            o.Label,
            F(ours?.Produce?.MegabytesPerSecond, 1), F(mock?.Produce?.MegabytesPerSecond, 1), F(produceRatio),
            Pair(ours?.Produce?.P50Ms, ours?.Produce?.P99Ms), Pair(mock?.Produce?.P50Ms, mock?.Produce?.P99Ms),
            F(ours?.Consume?.FetchMegabytesPerSecond, 1), F(mock?.Consume?.FetchMegabytesPerSecond, 1), F(consumeRatio),
            F(ours?.CpuSecondsPerGbIn), F(ours?.CpuSecondsPerGbOut), F(mock?.CpuSecondsPerGbIn), F(mock?.CpuSecondsPerGbOut),
            F(ours?.PeakRssMegabytes, 0), Errors(ours, mock));
        File.AppendAllText(o.MarkdownFile, "| " + row + " |\n");
    }

    public const string ThroughputHeader =
        "| scenario | ours produce MB/s | mock produce MB/s | ratio | ours p50/p99 ms | mock p50/p99 ms | ours consume MB/s | mock consume MB/s | ratio | ours CPU s/GB in | ours CPU s/GB out | mock CPU s/GB in | mock CPU s/GB out | ours VmHWM MiB | errors |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

    private static void PrintE2eSummary(CompareOptions o, TargetResult? ours, TargetResult? mock)
    {
        foreach (var t in new[] { mock, ours })
        {
            if (t is null) continue;
            Console.WriteLine($"{t.Name,-6} {t.EndToEnd!.SummaryLine()}");
            Console.WriteLine($"{t.Name,-6} cpu: {F(t.CpuSecondsPerGbIn)} s/GB produced and consumed" +
                (t.PeakRssMegabytes is { } r ? $", peak RSS (VmHWM) {r:F0} MiB" : ""));
        }
        var p99Ratio = Ratio(ours?.EndToEnd?.P99Ms, mock?.EndToEnd?.P99Ms);
        var p50Ratio = Ratio(ours?.EndToEnd?.P50Ms, mock?.EndToEnd?.P50Ms);
        Console.WriteLine($"ratio ours/mock: e2e p50 {F(p50Ratio)}, e2e p99 {F(p99Ratio)}");
        if (o.MarkdownFile is null) return;
        var row = string.Join(" | ",
            o.Label,
            F(ours?.EndToEnd?.Producer.MegabytesPerSecond, 1), Quad(ours?.EndToEnd),
            F(mock?.EndToEnd?.Producer.MegabytesPerSecond, 1), Quad(mock?.EndToEnd),
            F(p50Ratio), F(p99Ratio), F(ours?.CpuSecondsPerGbIn), F(mock?.CpuSecondsPerGbIn), F(ours?.PeakRssMegabytes, 0),
            s_brokerFailure is null ? "" : "broker run failed: " + s_brokerFailure);
        File.AppendAllText(o.MarkdownFile, "| " + row + " |\n");
    }

    public const string E2eHeader =
        "| scenario | ours MB/s | ours p50 / p99 / p99.9 / max ms | mock MB/s | mock p50 / p99 / p99.9 / max ms | ratio p50 | ratio p99 | ours CPU s/GB | mock CPU s/GB | ours VmHWM MiB | notes |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|\n";

    private static string Errors(TargetResult? ours, TargetResult? mock)
    {
        var n = (ours?.Produce?.Errors ?? 0) + (mock?.Produce?.Errors ?? 0);
        var shortRead = (ours?.Consume?.TimedOut ?? false) || (mock?.Consume?.TimedOut ?? false);
        var text = n == 0 && !shortRead ? "0" : $"{n}{(shortRead ? ", consumer timed out" : "")}";
        return s_brokerFailure is null ? text : $"{text}; broker run failed: {s_brokerFailure}";
    }

    private static double? Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;
    private static string F(double? v, int decimals = 2) => v is { } x ? x.ToString("F" + decimals, CultureInfo.InvariantCulture) : "-";
    private static string Pair(double? a, double? b) => a is null ? "-" : $"{F(a)} / {F(b)}";
    private static string Quad(EndToEndResult? e) => e is null ? "-" : $"{F(e.P50Ms)} / {F(e.P99Ms)} / {F(e.P999Ms)} / {F(e.MaxMs)}";
}
