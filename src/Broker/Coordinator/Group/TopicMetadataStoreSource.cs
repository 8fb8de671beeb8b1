using Broker.Replication.Metadata;
using Broker.Storage;

namespace Broker.Coordinator.Group;

/// <summary>
/// <see cref="ITopicMetadataSource"/> over the broker's topic metadata store (names, ids,
/// partition counts) and the local logs (high watermarks for lag).
/// </summary>
public sealed class TopicMetadataStoreSource(TopicMetadataStore store, LogManager? logs = null) : ITopicMetadataSource
{
    public (Guid TopicId, int PartitionCount)? GetTopic(string topicName) =>
        store.GetTopic(topicName) is { } topic ? (topic.TopicId, topic.PartitionCount) : null;

    public string? GetTopicName(Guid topicId) => store.GetTopic(topicId)?.Name;

    public IReadOnlyCollection<string> GetTopicNames()
    {
        var topics = store.Topics;
        var names = new List<string>(topics.Count);
        foreach (var topic in topics) names.Add(topic.Name);
        return names;
    }

    public long? GetHighWatermark(string topicName, int partition) =>
        logs?.GetLog(new TopicPartition(topicName, partition))?.HighWatermark;

    public long MetadataVersion => store.MetadataVersion;
}
