using System.Collections.Concurrent;
using Broker.Fetch;
using Broker.Protocol.Messages;
using Broker.Replication.Metadata;
using Prometheus;

namespace Broker.Metrics;

/// <summary>
/// Kafka's <c>kafka.server:type=BrokerTopicMetrics</c> BytesInPerSec, BytesOutPerSec and
/// MessagesInPerSec, as Prometheus counters: broker-wide (Kafka's series without a topic tag)
/// as <c>kafka_server_{bytes_in,bytes_out,messages_in}_total</c>, and per topic as
/// <c>kafka_server_topic_{bytes_in,bytes_out,messages_in}_total{topic}</c> (two names, because one
/// Prometheus metric cannot have series with and without a label).
///
/// As in Kafka: bytes in are the record bytes of client produce requests as received (before any
/// recompression), messages in the records appended (a duplicate idempotent retry appends none);
/// bytes out are the record bytes returned to consumers (follower fetches are replication
/// traffic, which Kafka counts separately). Appends by the coordinators to internal topics do not
/// pass through here.
///
/// Hot path: one dictionary lookup by topic name per partition (no allocation once the topic has
/// been seen), then atomic adds. Series of deleted topics are dropped on scrape.
/// </summary>
public sealed class BrokerTopicMetrics
{
    private static readonly Func<string, BrokerTopicMetrics, TopicCounters> CreateCounters = static (topic, self) => new TopicCounters(
        self._topicBytesIn.WithLabels(topic), self._topicBytesOut.WithLabels(topic), self._topicMessagesIn.WithLabels(topic));

    private readonly Counter _bytesIn;
    private readonly Counter _bytesOut;
    private readonly Counter _messagesIn;
    private readonly Counter _topicBytesIn;
    private readonly Counter _topicBytesOut;
    private readonly Counter _topicMessagesIn;
    private readonly ConcurrentDictionary<string, TopicCounters> _byTopic = new(StringComparer.Ordinal);

    public BrokerTopicMetrics(IMetricFactory factory)
    {
        _bytesIn = factory.CreateCounter("kafka_server_bytes_in_total", "Record bytes received from clients in produce requests, all topics (Kafka BytesInPerSec).");
        _bytesOut = factory.CreateCounter("kafka_server_bytes_out_total", "Record bytes sent to consumers in fetch responses, all topics (Kafka BytesOutPerSec).");
        _messagesIn = factory.CreateCounter("kafka_server_messages_in_total", "Records appended from produce requests, all topics (Kafka MessagesInPerSec).");
        string[] topicLabel = ["topic"];
        _topicBytesIn = factory.CreateCounter("kafka_server_topic_bytes_in_total", "Record bytes received from clients in produce requests, per topic (Kafka BytesInPerSec).", topicLabel);
        _topicBytesOut = factory.CreateCounter("kafka_server_topic_bytes_out_total", "Record bytes sent to consumers in fetch responses, per topic (Kafka BytesOutPerSec).", topicLabel);
        _topicMessagesIn = factory.CreateCounter("kafka_server_topic_messages_in_total", "Records appended from produce requests, per topic (Kafka MessagesInPerSec).", topicLabel);
    }

    /// <summary>One partition's successful append from a produce request.</summary>
    public void RecordProduce(string topic, int sizeBytes, int recordCount)
    {
        TopicCounters counters = For(topic);
        _bytesIn.Inc(sizeBytes);
        counters.BytesIn.Inc(sizeBytes);
        _messagesIn.Inc(recordCount);
        counters.MessagesIn.Inc(recordCount);
    }

    /// <summary>
    /// The record bytes of a consumer fetch response: <paramref name="results"/>[i] answers
    /// <paramref name="entries"/>[i]. Topics fetched by id (v13+) are named from the metadata.
    /// </summary>
    public void RecordFetch(List<CachedPartition> entries, FetchResponse.PartitionData[] results, TopicMetadataStore metadata)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            int size = results[i].Records?.SizeInBytes ?? 0;
            if (size <= 0)
            {
                continue;
            }

            FetchKey key = entries[i].Key;
            string? topic = key.Topic.Length > 0 ? key.Topic : metadata.GetTopic(key.TopicId)?.Name;
            _bytesOut.Inc(size);
            if (topic is not null)
            {
                For(topic).BytesOut.Inc(size);
            }
        }
    }

    /// <summary>Drops the series of topics that no longer exist (called on scrape).</summary>
    public void RemoveDeletedTopics(TopicMetadataStore metadata)
    {
        foreach (string topic in _byTopic.Keys)
        {
            if (metadata.GetTopic(topic) is null && _byTopic.TryRemove(topic, out _))
            {
                _topicBytesIn.RemoveLabelled(topic);
                _topicBytesOut.RemoveLabelled(topic);
                _topicMessagesIn.RemoveLabelled(topic);
            }
        }
    }

    private TopicCounters For(string topic) => _byTopic.GetOrAdd(topic, CreateCounters, this);

    private sealed record TopicCounters(Counter.Child BytesIn, Counter.Child BytesOut, Counter.Child MessagesIn);
}
