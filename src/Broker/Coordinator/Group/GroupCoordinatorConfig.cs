namespace Broker.Coordinator.Group;

/// <summary>
/// The group coordinator's settings, named after Kafka's properties (defaults are Kafka's).
/// Built from BrokerConfig by the service module; tests construct it directly.
/// </summary>
public sealed record GroupCoordinatorConfig
{
    /// <summary>offsets.topic.num.partitions.</summary>
    public int OffsetsTopicNumPartitions { get; init; } = 50;
    /// <summary>offsets.topic.replication.factor.</summary>
    public short OffsetsTopicReplicationFactor { get; init; } = 3;
    /// <summary>offsets.topic.segment.bytes.</summary>
    public int OffsetsTopicSegmentBytes { get; init; } = 100 * 1024 * 1024;
    /// <summary>group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for more members.</summary>
    public int GroupInitialRebalanceDelayMs { get; init; } = 3000;
    /// <summary>group.min.session.timeout.ms.</summary>
    public int GroupMinSessionTimeoutMs { get; init; } = 6000;
    /// <summary>group.max.session.timeout.ms.</summary>
    public int GroupMaxSessionTimeoutMs { get; init; } = 1800000;
    /// <summary>group.max.size (classic groups).</summary>
    public int GroupMaxSize { get; init; } = int.MaxValue;
    /// <summary>offsets.retention.minutes.</summary>
    public int OffsetsRetentionMinutes { get; init; } = 10080;
    /// <summary>offsets.retention.check.interval.ms.</summary>
    public long OffsetsRetentionCheckIntervalMs { get; init; } = 600000;
    /// <summary>offset.metadata.max.bytes.</summary>
    public int OffsetMetadataMaxBytes { get; init; } = 4096;
    /// <summary>group.consumer.session.timeout.ms (KIP-848).</summary>
    public int GroupConsumerSessionTimeoutMs { get; init; } = 45000;
    /// <summary>group.consumer.heartbeat.interval.ms (KIP-848).</summary>
    public int GroupConsumerHeartbeatIntervalMs { get; init; } = 5000;
    /// <summary>group.consumer.max.size.</summary>
    public int GroupConsumerMaxSize { get; init; } = int.MaxValue;
    /// <summary>group.consumer.assignors: the first is the default server assignor.</summary>
    public IReadOnlyList<string> GroupConsumerAssignors { get; init; } = new[] { "uniform", "range" };
    /// <summary>group.consumer.migration.policy: disabled, upgrade, downgrade or bidirectional
    /// (case-insensitive, as Kafka parses it). Upgrade converts a non-empty classic group when a
    /// consumer-protocol member joins; downgrade converts a consumer group back when only classic
    /// members remain (KIP-848 online migration).</summary>
    public string GroupConsumerMigrationPolicy { get; init; } = "bidirectional";
    public bool OnlineUpgradeEnabled =>
        GroupConsumerMigrationPolicy.Equals("upgrade", StringComparison.OrdinalIgnoreCase)
        || GroupConsumerMigrationPolicy.Equals("bidirectional", StringComparison.OrdinalIgnoreCase);
    public bool OnlineDowngradeEnabled =>
        GroupConsumerMigrationPolicy.Equals("downgrade", StringComparison.OrdinalIgnoreCase)
        || GroupConsumerMigrationPolicy.Equals("bidirectional", StringComparison.OrdinalIgnoreCase);
    /// <summary>Kafka's classic new-member join timeout (5 minutes): a member that sent JoinGroup
    /// with an empty member id must rejoin within it, or it is dropped.</summary>
    public int ClassicNewMemberJoinTimeoutMs { get; init; } = 300000;
    /// <summary>Upper bound on one regular expression match (our substitute for RE2's linear time).</summary>
    public TimeSpan SubscriptionRegexTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    public long OffsetsRetentionMs => OffsetsRetentionMinutes * 60_000L;
}
