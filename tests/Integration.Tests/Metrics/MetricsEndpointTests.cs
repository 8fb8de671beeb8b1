using System.Net;
using Broker.Integration.Tests.DataPath;
using Broker.Integration.Tests.Infrastructure;
using Broker.Metrics;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using Microsoft.Extensions.DependencyInjection;
using static Broker.Integration.Tests.Infrastructure.RawRecords;

namespace Broker.Integration.Tests.Metrics;

/// <summary>
/// /metrics over HTTP against a real broker: request counters, bytes and messages in/out, the
/// per-partition log gauges, and series of a deleted topic going away. Records are produced as
/// batches built here, so byte counts are known exactly.
/// </summary>
public sealed class MetricsEndpointTests
{
    [Fact(Timeout = 60_000)]
    public async Task Request_counts_and_latency_samples_grow_by_the_requests_sent()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using TestBroker broker = await MetricsScrape.StartBrokerAsync();
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);

        List<MetricSample> before = await MetricsScrape.ScrapeAsync(broker, cts.Token);
        const int sent = 3;
        for (int i = 0; i < sent; i++)
        {
            await client.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, MetadataRequest.ApiKey, 12, cts.Token);
        }

        await client.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" }, ApiVersionsRequest.ApiKey, 3, cts.Token);

        // The counter moves before the response leaves, so one scrape after the answers suffices.
        List<MetricSample> after = await MetricsScrape.ScrapeAsync(broker, cts.Token);
        (string, string) metadata = ("request", "Metadata");
        Assert.Equal(sent, Count(after, "kafka_network_requests_total", metadata, ("version", "12")) - Count(before, "kafka_network_requests_total", metadata, ("version", "12")));
        Assert.Equal(sent, Count(after, "kafka_network_request_total_time_seconds_count", metadata) - Count(before, "kafka_network_request_total_time_seconds_count", metadata));
        Assert.True(MetricsScrape.Find(after, "kafka_network_request_total_time_seconds_sum", metadata) > 0);
        Assert.Equal(1, Count(after, "kafka_network_requests_total", ("request", "ApiVersions"), ("version", "3")) - Count(before, "kafka_network_requests_total", ("request", "ApiVersions"), ("version", "3")));
        Assert.True(MetricsScrape.Find(after, "kafka_network_connection_count") >= 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Produce_and_fetch_move_bytes_messages_and_the_partition_gauges_then_deleting_the_topic_drops_its_series()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using TestBroker broker = await MetricsScrape.StartBrokerAsync();
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic("metrics");
        await CreateTopicAsync(client, topic, 1, cts.Token);
        List<MetricSample> before = await MetricsScrape.ScrapeAsync(broker, cts.Token);
        (string, string) topicLabel = ("topic", topic);
        Assert.Equal(0, MetricsScrape.Find(before, "kafka_log_log_end_offset", topicLabel, ("partition", "0")));

        const int records = 10;
        byte[] batch = Batch(records, 100);
        var produce = new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = { new ProduceRequest.TopicProduceData { Name = topic, PartitionData = { new ProduceRequest.PartitionProduceData { Index = 0, Records = new MemoryRecords(batch) } } } },
        };
        ProduceResponse produced = await client.SendAsync<ProduceResponse>(produce, ProduceRequest.ApiKey, 9, cts.Token);
        Assert.Equal(0, produced.Responses[0].PartitionResponses[0].ErrorCode);

        var fetch = new FetchRequest
        {
            ReplicaId = -1, MaxWaitMs = 0, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics = { new FetchRequest.FetchTopic { Topic = topic, Partitions = { new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 } } } },
        };
        FetchResponse fetched = await client.SendAsync<FetchResponse>(fetch, FetchRequest.ApiKey, 12, cts.Token);
        Assert.Equal(batch.Length, fetched.Responses[0].Partitions[0].Records!.SizeInBytes);

        List<MetricSample> after = await MetricsScrape.ScrapeAsync(broker, cts.Token);
        Assert.Equal(batch.Length, MetricsScrape.Find(after, "kafka_server_topic_bytes_in_total", topicLabel));
        Assert.Equal(records, MetricsScrape.Find(after, "kafka_server_topic_messages_in_total", topicLabel));
        Assert.Equal(batch.Length, MetricsScrape.Find(after, "kafka_server_topic_bytes_out_total", topicLabel));
        Assert.Equal(batch.Length, Count(after, "kafka_server_bytes_in_total") - Count(before, "kafka_server_bytes_in_total"));
        Assert.Equal(records, Count(after, "kafka_server_messages_in_total") - Count(before, "kafka_server_messages_in_total"));
        Assert.Equal(batch.Length, Count(after, "kafka_server_bytes_out_total") - Count(before, "kafka_server_bytes_out_total"));

        (string, string) partition = ("partition", "0");
        Assert.Equal(records, MetricsScrape.Find(after, "kafka_log_log_end_offset", topicLabel, partition));
        Assert.Equal(records, MetricsScrape.Find(after, "kafka_log_high_watermark", topicLabel, partition));
        Assert.Equal(0, MetricsScrape.Find(after, "kafka_log_log_start_offset", topicLabel, partition));
        Assert.Equal(batch.Length, MetricsScrape.Find(after, "kafka_log_size_bytes", topicLabel, partition));
        Assert.Equal(1, MetricsScrape.Find(after, "kafka_log_num_log_segments", topicLabel, partition));
        Assert.True(MetricsScrape.Find(after, "kafka_server_replica_manager_partition_count") >= 1);
        Assert.Equal(0, MetricsScrape.Find(after, "kafka_server_replica_manager_under_replicated_partitions"));

        var delete = new DeleteTopicsRequest { TimeoutMs = 10_000, TopicNames = [topic] };
        DeleteTopicsResponse deleted = await client.SendAsync<DeleteTopicsResponse>(delete, DeleteTopicsRequest.ApiKey, 5, cts.Token);
        Assert.Equal(0, Assert.Single(deleted.Responses).ErrorCode);
        List<MetricSample> gone = await MetricsScrape.ScrapeUntilAsync(broker,
            s => MetricsScrape.Find(s, "kafka_log_log_end_offset", topicLabel, partition) is null, cts.Token);
        Assert.Null(MetricsScrape.Find(gone, "kafka_server_topic_bytes_in_total", topicLabel));
        Assert.Null(MetricsScrape.Find(gone, "kafka_log_size_bytes", topicLabel, partition));
    }

    [Fact(Timeout = 60_000)]
    public async Task Other_paths_and_methods_are_refused_and_metrics_are_off_by_default()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using (TestBroker broker = await MetricsScrape.StartBrokerAsync())
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            Uri metrics = MetricsScrape.MetricsUri(broker);
            using HttpResponseMessage notFound = await http.GetAsync(new Uri(metrics, "/other"), cts.Token);
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
            using HttpResponseMessage post = await http.PostAsync(metrics, new StringContent("x"), cts.Token);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            using HttpResponseMessage head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, metrics), cts.Token);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("400", await RawRequestStatusAsync(metrics, "NONSENSE\r\n\r\n", cts.Token));
            string body = await http.GetStringAsync(metrics, cts.Token);
            Assert.Contains("# TYPE kafka_network_requests_total counter", body);
            Assert.Contains("# TYPE kafka_consumergroup_lag gauge", body);
            Assert.Contains("process_cpu_seconds_total", body);
        }

        await using TestBroker off = await TestBroker.StartAsync();
        Assert.Null(off.Services.GetService<MetricsHttpServer>());
    }

    /// <summary>Sends raw bytes (no HTTP client would send a malformed request line) and returns the status code.</summary>
    private static async Task<string> RawRequestStatusAsync(Uri uri, string request, CancellationToken ct)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, ct);
        await using System.Net.Sockets.NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request), ct);
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        string statusLine = await reader.ReadLineAsync(ct) ?? "";
        Assert.StartsWith("HTTP/1.1 ", statusLine);
        return statusLine.Split(' ')[1];
    }

    private static double Count(List<MetricSample> samples, string name, params (string, string)[] labels) =>
        MetricsScrape.Sum(samples, name, labels);
}
