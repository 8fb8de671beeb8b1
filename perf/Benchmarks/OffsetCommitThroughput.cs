using System.Diagnostics;
using Broker.Config;
using Broker.Hosting;
using Broker.Network;
using Broker.Replication.Metadata;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Benchmarks;

/// <summary>
/// End-to-end offset commit throughput: the real broker in this process (temp data dir, port 0,
/// __consumer_offsets on disk) and N Confluent.Kafka consumers, each on its own thread, committing
/// synchronously in a loop (librdkafka's Commit waits for the OffsetCommit response). Each
/// consumer is a simple consumer (no subscription, generation -1), as a stream processor
/// committing its own assignment would be.
///
///   dotnet run -c Release --project perf/Benchmarks -- offset-commit-e2e [--consumers 8]
///       [--partitions-per-commit 1] [--duration-sec 10] [--same-group]
///
/// --same-group puts every consumer in one group (one __consumer_offsets partition, one shard
/// executor: the serialized worst case); otherwise each has its own group, spread over shards.
/// </summary>
public static class OffsetCommitThroughput
{
    public static async Task<int> RunAsync(string[] args)
    {
        int consumers = IntArg(args, "--consumers", 8);
        int partitionsPerCommit = IntArg(args, "--partitions-per-commit", 1);
        int durationSec = IntArg(args, "--duration-sec", 10);
        bool sameGroup = Array.IndexOf(args, "--same-group") >= 0;

        string dir = Path.Combine(Path.GetTempPath(), "offset-commit-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var config = new BrokerConfig(new Dictionary<string, string>
        {
            ["listeners"] = "PLAINTEXT://127.0.0.1:0",
            ["log.dirs"] = dir,
            ["offsets.topic.replication.factor"] = "1",
        });
        using IHost host = BrokerHost.Build(config, logging => logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole());
        await host.StartAsync().ConfigureAwait(false);
        try
        {
            int port = host.Services.GetRequiredService<KafkaServer>().BoundEndPoints["PLAINTEXT"].Port;
            string topic = "commit-bench-" + Guid.NewGuid().ToString("N");
            var created = host.Services.GetRequiredService<TopicMetadataStore>().CreateTopic(topic, Math.Max(partitionsPerCommit, consumers), 1);
            if (!created.Succeeded) throw new InvalidOperationException(created.ErrorMessage);

            var results = new (long Commits, double[] LatenciesMs)[consumers];
            var threads = new Thread[consumers];
            using var start = new Barrier(consumers + 1);
            using var stop = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            for (int c = 0; c < consumers; c++)
            {
                int index = c;
                threads[c] = new Thread(() => results[index] = CommitLoop(port, sameGroup ? "bench-group" : "bench-group-" + index,
                    topic, index, partitionsPerCommit, start, stop.Token)) { IsBackground = true };
                threads[c].Start();
            }
            start.SignalAndWait(); // every consumer has found its coordinator and made one commit
            var began = clock.Elapsed;
            stop.CancelAfter(TimeSpan.FromSeconds(durationSec));
            foreach (var t in threads) t.Join();
            double seconds = (clock.Elapsed - began).TotalSeconds;

            long commits = 0;
            var latencies = new List<double>();
            foreach (var r in results)
            {
                commits += r.Commits;
                latencies.AddRange(r.LatenciesMs);
            }
            latencies.Sort();
            double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
            Console.WriteLine($"consumers={consumers} groups={(sameGroup ? 1 : consumers)} partitions/commit={partitionsPerCommit} duration={seconds:F1}s");
            Console.WriteLine($"commits/s={commits / seconds:F0} offsets/s={commits * partitionsPerCommit / seconds:F0} " +
                              $"latency ms p50={Percentile(0.50):F2} p99={Percentile(0.99):F2} max={Percentile(1.0):F2}");
            return 0;
        }
        finally
        {
            await host.StopAsync().ConfigureAwait(false);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static (long, double[]) CommitLoop(int port, string groupId, string topic, int index, int partitionsPerCommit,
        Barrier start, CancellationToken stop)
    {
        var config = new ConsumerConfig { BootstrapServers = "127.0.0.1:" + port, GroupId = groupId, EnableAutoCommit = false };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
        var offsets = new List<TopicPartitionOffset>(partitionsPerCommit);
        long offset = 0;
        void Fill()
        {
            offsets.Clear();
            offset++;
            for (int p = 0; p < partitionsPerCommit; p++)
                offsets.Add(new TopicPartitionOffset(topic, partitionsPerCommit == 1 ? index : p, offset));
        }
        Fill();
        consumer.Commit(offsets); // finds the coordinator; not measured
        start.SignalAndWait();
        var latencies = new List<double>(100_000);
        long commits = 0;
        while (!stop.IsCancellationRequested)
        {
            Fill();
            long t0 = Stopwatch.GetTimestamp();
            consumer.Commit(offsets);
            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            commits++;
        }
        consumer.Close();
        return (commits, latencies.ToArray());
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : fallback;
    }
}
