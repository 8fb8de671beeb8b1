using System.Diagnostics;
using Broker.Metrics;
using Broker.Protocol.Messages;

namespace Broker.Integration.Tests.Metrics;

/// <summary>
/// The per-request and per-partition recording runs on the hot path: once the labelled children
/// exist it must not allocate (cached children, no label arrays, no closures).
/// </summary>
public sealed class MetricsAllocationTests
{
    private const int Iterations = 10_000;

    [Fact(Timeout = 30_000)]
    public async Task Recording_requests_and_produced_bytes_allocates_nothing_once_warm()
    {
        await Task.Yield(); // xunit's Timeout needs an async test; what follows runs on one thread
        var metrics = new BrokerMetrics();
        // A topic name that is a different string instance than the one cached, as each request's is.
        string topic = new string("alloc-topic".AsSpan());
        long start = Stopwatch.GetTimestamp();
        metrics.Requests.Record(ProduceRequest.ApiKey, 9, start);
        metrics.Topics.RecordProduce("alloc-topic", 100, 3);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++)
        {
            metrics.Requests.Record(ProduceRequest.ApiKey, 9, start);
            metrics.Topics.RecordProduce(topic, 100, 3);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for {Iterations} recordings");
    }

    [Fact(Timeout = 30_000)]
    public async Task Recorded_values_are_exported_and_unknown_api_keys_or_versions_are_ignored()
    {
        var metrics = new BrokerMetrics();
        long start = Stopwatch.GetTimestamp();
        metrics.Requests.Record(FetchRequest.ApiKey, 12, start);
        metrics.Requests.Record(FetchRequest.ApiKey, 12, start);
        metrics.Requests.Record(short.MaxValue, 0, start);
        metrics.Requests.Record(FetchRequest.ApiKey, short.MaxValue, start);
        metrics.Requests.Record(-1, 0, start);
        metrics.Topics.RecordProduce("t", 50, 2);
        metrics.Topics.RecordProduce("t", 25, 1);

        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        List<MetricSample> samples = MetricsScrape.Parse(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        Assert.Equal(2, MetricsScrape.Sum(samples, "kafka_network_requests_total"));
        Assert.Equal(2, MetricsScrape.Find(samples, "kafka_network_requests_total", ("request", "Fetch"), ("version", "12")));
        Assert.Equal(2, MetricsScrape.Find(samples, "kafka_network_request_total_time_seconds_count", ("request", "Fetch")));
        Assert.Equal(75, MetricsScrape.Find(samples, "kafka_server_topic_bytes_in_total", ("topic", "t")));
        Assert.Equal(3, MetricsScrape.Find(samples, "kafka_server_messages_in_total"));
    }
}
