using Prometheus;

namespace Broker.Metrics;

/// <summary>
/// The broker's metrics registry. Each broker owns its own prometheus-net
/// <see cref="CollectorRegistry"/> rather than the static default one, so that several brokers
/// in one process (the integration tests) never mix their series. The counters updated on the
/// request path live here and are always on (they cost a few atomic adds); the gauges read from
/// the logs and the group coordinator are computed on scrape by <see cref="ScrapeCollectors"/>,
/// and only when <c>metrics.port</c> serves them. prometheus-net's .NET process metrics
/// (<c>process_*</c>, <c>dotnet_*</c>) are included.
/// </summary>
public sealed class BrokerMetrics
{
    public BrokerMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        // Process metrics (CPU seconds, memory, GC collections, threads), read on scrape: the
        // counterpart of the JVM metrics a Kafka JMX exporter publishes.
        DotNetStats.Register(Registry);
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        Requests = new RequestMetrics(Factory);
        Topics = new BrokerTopicMetrics(Factory);
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    public RequestMetrics Requests { get; }

    public BrokerTopicMetrics Topics { get; }
}
