using Broker.Config;

namespace Broker.Tests.Config;

/// <summary>
/// Every key in the catalogue defaults to what Apache Kafka 4.x documents for it (KafkaConfig,
/// ServerLogConfigs, SocketServerConfigs, GroupCoordinatorConfig, TransactionLogConfigs), except
/// the deviations listed here and in the README. A key added to the catalogue must be added
/// here with Kafka's documented default.
/// </summary>
public sealed class KafkaDefaultsTests
{
    // Kafka's default as documented (null = no default).
    private static readonly Dictionary<string, string?> KafkaDefaults = new(StringComparer.Ordinal)
    {
        ["broker.id"] = "-1",
        ["process.roles"] = null, // Kafka requires it in KRaft; ours runs one combined node
        ["cluster.id"] = null,
        ["advertised.listeners"] = null,
        ["listener.security.protocol.map"] = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
        ["inter.broker.listener.name"] = null,
        ["controller.listener.names"] = null,
        ["controller.quorum.voters"] = null,
        ["controller.quorum.bootstrap.servers"] = null,
        ["broker.rack"] = null,
        ["num.network.threads"] = "3",
        ["num.io.threads"] = "8",
        ["queued.max.requests"] = "500",
        ["socket.send.buffer.bytes"] = "102400",
        ["socket.receive.buffer.bytes"] = "102400",
        ["socket.request.max.bytes"] = "104857600",
        ["socket.listen.backlog.size"] = "50",
        ["connections.max.idle.ms"] = "600000",
        ["max.connections"] = "2147483647",
        ["request.timeout.ms"] = "30000",
        ["max.incremental.fetch.session.cache.slots"] = "1000",
        ["fetch.max.bytes"] = "57671680",
        ["log.dirs"] = null,
        ["num.partitions"] = "1",
        ["default.replication.factor"] = "1",
        ["auto.create.topics.enable"] = "true",
        ["delete.topic.enable"] = "true",
        ["message.max.bytes"] = "1048588",
        ["log.segment.bytes"] = "1073741824",
        ["log.roll.ms"] = null,
        ["log.roll.hours"] = "168",
        ["log.roll.jitter.ms"] = null,
        ["log.roll.jitter.hours"] = "0",
        ["log.retention.ms"] = null,
        ["log.retention.minutes"] = null,
        ["log.retention.hours"] = "168",
        ["log.retention.bytes"] = "-1",
        ["log.retention.check.interval.ms"] = "300000",
        ["log.cleanup.policy"] = "delete",
        ["log.cleaner.enable"] = "true",
        ["log.cleaner.min.cleanable.ratio"] = "0.5",
        ["log.cleaner.delete.retention.ms"] = "86400000",
        ["log.cleaner.backoff.ms"] = "15000",
        ["log.flush.interval.messages"] = "9223372036854775807",
        ["log.flush.interval.ms"] = null,
        ["log.flush.scheduler.interval.ms"] = "9223372036854775807",
        ["log.flush.offset.checkpoint.interval.ms"] = "60000",
        ["log.index.interval.bytes"] = "4096",
        ["log.index.size.max.bytes"] = "10485760",
        ["log.message.timestamp.type"] = "CreateTime",
        ["log.message.timestamp.before.max.ms"] = "9223372036854775807",
        ["log.message.timestamp.after.max.ms"] = "3600000", // Kafka 4.0 (KIP-1030)
        ["log.preallocate"] = "false",
        ["log.segment.delete.delay.ms"] = "60000",
        ["num.recovery.threads.per.data.dir"] = "2", // Kafka 4.0 (KIP-1030)
        ["min.insync.replicas"] = "1",
        ["compression.type"] = "producer",
        ["unclean.leader.election.enable"] = "false",
        ["replica.lag.time.max.ms"] = "30000",
        ["replica.fetch.max.bytes"] = "1048576",
        ["replica.fetch.wait.max.ms"] = "500",
        ["num.replica.fetchers"] = "1",
        ["offsets.topic.num.partitions"] = "50",
        ["offsets.topic.replication.factor"] = "3",
        ["offsets.topic.segment.bytes"] = "104857600",
        ["offsets.retention.minutes"] = "10080",
        ["offsets.retention.check.interval.ms"] = "600000",
        ["offset.metadata.max.bytes"] = "4096",
        ["offsets.commit.timeout.ms"] = "5000",
        ["offsets.load.buffer.size"] = "5242880",
        ["group.initial.rebalance.delay.ms"] = "3000",
        ["group.min.session.timeout.ms"] = "6000",
        ["group.max.session.timeout.ms"] = "1800000",
        ["group.max.size"] = "2147483647",
        ["group.coordinator.rebalance.protocols"] = "classic,consumer",
        ["group.consumer.session.timeout.ms"] = "45000",
        ["group.consumer.min.session.timeout.ms"] = "45000",
        ["group.consumer.max.session.timeout.ms"] = "60000",
        ["group.consumer.heartbeat.interval.ms"] = "5000",
        ["group.consumer.min.heartbeat.interval.ms"] = "5000",
        ["group.consumer.max.heartbeat.interval.ms"] = "15000",
        ["group.consumer.max.size"] = "2147483647",
        ["group.consumer.assignors"] = "uniform,range", // Kafka lists the classes UniformAssignor, RangeAssignor
        ["group.consumer.migration.policy"] = "bidirectional",
        ["transactional.id.expiration.ms"] = "604800000",
        ["transaction.max.timeout.ms"] = "900000",
        ["transaction.state.log.num.partitions"] = "50",
        ["transaction.state.log.replication.factor"] = "3",
        ["transaction.state.log.min.isr"] = "2",
        ["transaction.state.log.segment.bytes"] = "104857600",
        ["transaction.state.log.load.buffer.size"] = "5242880",
        ["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = "10000",
        ["transaction.remove.expired.transaction.cleanup.interval.ms"] = "3600000",
        ["transaction.partition.verification.enable"] = "true",
        ["producer.id.expiration.ms"] = "86400000",
        ["producer.id.expiration.check.interval.ms"] = "600000",
    };

    // Deliberate differences, documented in the README and the catalogue.
    private static readonly Dictionary<string, (string? Kafka, string? Ours)> Deviations = new(StringComparer.Ordinal)
    {
        ["node.id"] = ("-1 (required)", "1"),                     // a bare start works
        ["listeners"] = ("PLAINTEXT://:9092", "PLAINTEXT://127.0.0.1:9092"), // loopback unless asked
        ["log.dir"] = ("/tmp/kafka-logs", "./data"),
    };

    [Fact]
    public void EveryKafkaKeyInTheCatalogueHasKafkasDefault()
    {
        var mismatches = new List<string>();
        foreach (ConfigDef def in BrokerConfigCatalogue.All.Values)
        {
            if (def.IsExtension) continue;
            if (Deviations.TryGetValue(def.Name, out var deviation))
            {
                if (def.DefaultValue != deviation.Ours) mismatches.Add($"{def.Name}: documented deviation {deviation.Ours}, catalogue {def.DefaultValue}");
                continue;
            }

            if (!KafkaDefaults.TryGetValue(def.Name, out string? expected))
            {
                mismatches.Add($"{def.Name}: not in this test; add Kafka's documented default");
                continue;
            }

            if (def.Name == "process.roles") continue; // required by Kafka, defaulted by us (single node)
            if (def.DefaultValue != expected) mismatches.Add($"{def.Name}: Kafka {expected ?? "(none)"}, catalogue {def.DefaultValue ?? "(none)"}");
        }

        Assert.Empty(mismatches);
    }

    [Fact]
    public void TypedDefaultsComeBackFromTheGetters()
    {
        var config = new BrokerConfig(new Dictionary<string, string>());
        Assert.Equal(104857600, config.GetInt("socket.request.max.bytes"));
        Assert.Equal(600000L, config.GetLong("connections.max.idle.ms"));
        Assert.True(config.GetBool("auto.create.topics.enable"));
        Assert.Equal(0.5, config.GetDouble("log.cleaner.min.cleanable.ratio"));
        Assert.Equal(7 * 24 * 3_600_000L, config.LogRetentionMs);
        Assert.Equal(["./data"], config.LogDirs);
        Assert.Equal(["classic", "consumer"], config.GetList("group.coordinator.rebalance.protocols"));
    }

    [Fact]
    public void ExtensionsAreOnlyOurOwnKeys()
    {
        var extensions = new List<string>();
        foreach (ConfigDef def in BrokerConfigCatalogue.All.Values)
        {
            if (def.IsExtension) extensions.Add(def.Name);
        }

        extensions.Sort(StringComparer.Ordinal);
        // Each is documented in the README as ours; none collides with an Apache Kafka key.
        Assert.All(extensions, name => Assert.False(KafkaDefaults.ContainsKey(name) || Deviations.ContainsKey(name), name));
        Assert.Contains("max.inflight.requests.per.connection", extensions);
    }
}
