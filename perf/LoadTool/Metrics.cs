using System.Globalization;
using System.Text.Json;

namespace Broker.LoadTool;

/// <summary>
/// --print-metrics: Kafka's tool dumps the Java client's metrics; the nearest equivalent for
/// librdkafka is its statistics JSON (statistics.interval.ms). We print the fields that
/// explain a throughput or latency result: batching, request round trips, queueing.
/// </summary>
internal static class Metrics
{
    public static void PrintProducer(string statisticsJson, TextWriter output)
    {
        using var doc = JsonDocument.Parse(statisticsJson);
        var root = doc.RootElement;
        output.WriteLine("Metric Name                                              Value");
        Line(output, "producer:txmsgs", root, "txmsgs");
        Line(output, "producer:txmsg_bytes", root, "txmsg_bytes");
        Line(output, "producer:tx (requests)", root, "tx");
        Line(output, "producer:tx_bytes", root, "tx_bytes");
        Line(output, "producer:msg_cnt (queued at last sample)", root, "msg_cnt");
        if (root.TryGetProperty("brokers", out var brokers))
            foreach (var broker in brokers.EnumerateObject())
            {
                if (broker.Value.TryGetProperty("nodeid", out var id) && id.GetInt32() < 0) continue; // bootstrap entry
                var prefix = "broker " + broker.Name;
                Window(output, prefix + ":rtt_us", broker.Value, "rtt");
                Window(output, prefix + ":int_latency_us (queue time)", broker.Value, "int_latency");
                Window(output, prefix + ":outbuf_latency_us", broker.Value, "outbuf_latency");
            }
        if (root.TryGetProperty("topics", out var topics))
            foreach (var topic in topics.EnumerateObject())
            {
                Window(output, "topic " + topic.Name + ":batchsize_bytes", topic.Value, "batchsize");
                Window(output, "topic " + topic.Name + ":batchcnt_records", topic.Value, "batchcnt");
            }
    }

    private static void Line(TextWriter output, string name, JsonElement parent, string property)
    {
        if (parent.TryGetProperty(property, out var value))
            output.WriteLine($"{name,-56} {value.GetRawText()}");
    }

    private static void Window(TextWriter output, string name, JsonElement parent, string property)
    {
        if (!parent.TryGetProperty(property, out var w)) return;
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-56} avg {1} p50 {2} p99 {3} max {4}",
            name, w.GetProperty("avg").GetRawText(), w.GetProperty("p50").GetRawText(),
            w.GetProperty("p99").GetRawText(), w.GetProperty("max").GetRawText()));
    }
}
