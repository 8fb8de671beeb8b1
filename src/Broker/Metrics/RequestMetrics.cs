using System.Diagnostics;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Prometheus;

namespace Broker.Metrics;

/// <summary>
/// Kafka's <c>kafka.network:type=RequestMetrics</c> per request type: RequestsPerSec (by request and
/// version) as <c>kafka_network_requests_total</c> and TotalTimeMs as the histogram
/// <c>kafka_network_request_total_time_seconds</c> (from the complete request frame to its
/// response being ready to send, so queueing behind earlier responses on the connection counts,
/// as it does in Kafka's total time).
///
/// Hot path: <see cref="Record"/> runs once per request. The labelled children are created on
/// first use and cached in arrays indexed by api key (and version), so recording is an array read
/// plus two atomic adds: no allocation, no label lookup. A series appears once its request type
/// has been seen, which keeps the output free of ~80 APIs x versions of zeros.
/// Thread-safe: two threads racing to create a child get the same child from prometheus-net.
/// </summary>
public sealed class RequestMetrics
{
    // Kafka's request latencies go from sub-millisecond (ApiVersions) to the fetch long-poll's
    // max wait (fetch.max.wait.ms 500 by default, up to tens of seconds for group joins).
    private static readonly double[] LatencyBucketsSeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Counter _requests;
    private readonly Histogram _totalTime;
    private readonly string?[] _names;
    private readonly string[][] _versionLabels;
    private readonly Counter.Child?[][] _requestChildren;
    private readonly Histogram.Child?[] _timeChildren;

    public RequestMetrics(IMetricFactory factory)
    {
        _requests = factory.CreateCounter("kafka_network_requests_total",
            "Requests received, by request type and version (Kafka RequestMetrics RequestsPerSec).",
            new CounterConfiguration { LabelNames = ["request", "version"] });
        _totalTime = factory.CreateHistogram("kafka_network_request_total_time_seconds",
            "Time from a complete request to its response being ready to send (Kafka RequestMetrics TotalTimeMs).",
            new HistogramConfiguration { LabelNames = ["request"], Buckets = LatencyBucketsSeconds });

        int maxKey = 0;
        foreach (ApiInfo api in ApiMessages.All)
        {
            maxKey = Math.Max(maxKey, api.ApiKey);
        }

        _names = new string?[maxKey + 1];
        _versionLabels = new string[maxKey + 1][];
        _requestChildren = new Counter.Child?[maxKey + 1][];
        _timeChildren = new Histogram.Child?[maxKey + 1];
        foreach (ApiInfo api in ApiMessages.All)
        {
            _names[api.ApiKey] = api.Name;
            int versions = api.HighestSupportedVersion + 1;
            _versionLabels[api.ApiKey] = new string[versions];
            for (int v = 0; v < versions; v++)
            {
                _versionLabels[api.ApiKey][v] = v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            _requestChildren[api.ApiKey] = new Counter.Child?[versions];
        }
    }

    /// <summary>
    /// Counts one answered (or answer-less, acks=0) request of a known api key and version and
    /// observes its time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch"/> timestamp).
    /// Requests with an api key or version outside the specs are not counted (they close the connection).
    /// </summary>
    public void Record(short apiKey, short apiVersion, long startTimestamp)
    {
        if ((uint)apiKey >= (uint)_names.Length || _names[apiKey] is null)
        {
            return;
        }

        Counter.Child?[] byVersion = _requestChildren[apiKey];
        if ((uint)apiVersion >= (uint)byVersion.Length)
        {
            return;
        }

        Counter.Child requests = byVersion[apiVersion] ??= _requests.WithLabels(_names[apiKey]!, _versionLabels[apiKey][apiVersion]);
        requests.Inc();
        Histogram.Child time = _timeChildren[apiKey] ??= _totalTime.WithLabels(_names[apiKey]!);
        time.Observe(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
    }
}
