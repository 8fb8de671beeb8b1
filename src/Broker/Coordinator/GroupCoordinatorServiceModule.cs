using Broker.Config;
using Broker.Coordinator.Group;
using Broker.Network;
using Broker.Replication;
using Broker.Replication.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator;

/// <summary>
/// Registers the group coordinator: its configuration (Kafka's property names and defaults),
/// the coordinator, the adapters that connect it to the replicated __consumer_offsets partitions
/// and to topic metadata, and the hosted service that loads and unloads its shards. The group
/// handlers (FindCoordinator, JoinGroup, ...) get these by constructor injection.
/// </summary>
public sealed class GroupCoordinatorServiceModule : IServiceModule
{
    public int Order => 300;

    public void Register(IServiceCollection services, BrokerConfig config)
    {
        services.AddSingleton(FromBrokerConfig(config));
        services.AddSingleton<ITopicMetadataSource>(sp =>
            new TopicMetadataStoreSource(sp.GetRequiredService<TopicMetadataStore>(), sp.GetRequiredService<ReplicaManager>().LogManager));
        services.AddSingleton<ICoordinatorLog>(sp => new ReplicatedCoordinatorLog(sp.GetRequiredService<ReplicaManager>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System, config.GetInt("offsets.commit.timeout.ms")));
        services.AddSingleton(sp => new GroupCoordinator(
            sp.GetRequiredService<GroupCoordinatorConfig>(),
            sp.GetRequiredService<ICoordinatorLog>(),
            sp.GetRequiredService<ITopicMetadataSource>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<ICoordinatorNodeResolver>(sp => new LocalCoordinatorNodeResolver(
            sp.GetRequiredService<GroupCoordinator>(), sp.GetRequiredService<ReplicaManager>(), EndpointLookup(sp, config)));
        services.AddHostedService<GroupCoordinatorLifecycle>();
    }

    /// <summary>The network layer's advertised endpoints (ports as bound); the configured ones without it.</summary>
    private static Func<string, (string Host, int Port)?> EndpointLookup(IServiceProvider sp, BrokerConfig config)
    {
        var configured = AdvertisedEndpoints(config);
        return listenerName => sp.GetService<BrokerEndpoints>()?.For(listenerName) ?? configured(listenerName);
    }

    /// <summary>advertised.listeners (or listeners) parsed as NAME://host:port.</summary>
    private static Func<string, (string Host, int Port)?> AdvertisedEndpoints(BrokerConfig config) => listenerName =>
    {
        foreach (var entry in config.AdvertisedListeners)
        {
            int scheme = entry.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0 || !string.Equals(entry[..scheme], listenerName, StringComparison.OrdinalIgnoreCase)) continue;
            string hostPort = entry[(scheme + 3)..];
            int colon = hostPort.LastIndexOf(':');
            if (colon < 0 || !int.TryParse(hostPort[(colon + 1)..], out int port)) continue;
            string host = hostPort[..colon].Trim('[', ']');
            return (host.Length == 0 ? "localhost" : host, port);
        }
        return null;
    };

    public static GroupCoordinatorConfig FromBrokerConfig(BrokerConfig config) => new()
    {
        OffsetsTopicNumPartitions = config.GetInt("offsets.topic.num.partitions"),
        OffsetsTopicReplicationFactor = config.GetShort("offsets.topic.replication.factor"),
        OffsetsTopicSegmentBytes = config.GetInt("offsets.topic.segment.bytes"),
        GroupInitialRebalanceDelayMs = config.GetInt("group.initial.rebalance.delay.ms"),
        GroupMinSessionTimeoutMs = config.GetInt("group.min.session.timeout.ms"),
        GroupMaxSessionTimeoutMs = config.GetInt("group.max.session.timeout.ms"),
        GroupMaxSize = config.GetInt("group.max.size"),
        OffsetsRetentionMinutes = config.GetInt("offsets.retention.minutes"),
        OffsetsRetentionCheckIntervalMs = config.GetLong("offsets.retention.check.interval.ms"),
        OffsetMetadataMaxBytes = config.GetInt("offset.metadata.max.bytes"),
        GroupConsumerSessionTimeoutMs = config.GetInt("group.consumer.session.timeout.ms"),
        GroupConsumerHeartbeatIntervalMs = config.GetInt("group.consumer.heartbeat.interval.ms"),
        GroupConsumerMaxSize = config.GetInt("group.consumer.max.size"),
        GroupConsumerAssignors = config.GetList("group.consumer.assignors"),
        GroupConsumerMigrationPolicy = config.GetString("group.consumer.migration.policy") ?? "bidirectional",
    };
}
