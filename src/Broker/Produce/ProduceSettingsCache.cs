using System.Runtime.CompilerServices;
using Broker.Config;
using Broker.Replication.Metadata;

namespace Broker.Produce;

/// <summary>
/// <see cref="TopicProduceSettings"/> per topic metadata instance: the store makes a new
/// instance on every change of the topic, so the cache never serves stale settings and entries
/// die with their topic instance. Broker config changes (message.max.bytes, ...) clear it.
/// </summary>
internal sealed class ProduceSettingsCache
{
    private readonly BrokerConfig _config;
    private ConditionalWeakTable<TopicMetadata, TopicProduceSettings> _cache = new();

    public ProduceSettingsCache(BrokerConfig config)
    {
        _config = config;
        config.Changed += _ => _cache = new ConditionalWeakTable<TopicMetadata, TopicProduceSettings>();
    }

    public TopicProduceSettings For(TopicMetadata topic)
    {
        ConditionalWeakTable<TopicMetadata, TopicProduceSettings> cache = _cache;
        if (cache.TryGetValue(topic, out TopicProduceSettings? settings))
        {
            return settings;
        }

        settings = TopicProduceSettings.For(topic, _config);
        cache.AddOrUpdate(topic, settings);
        return settings;
    }
}
