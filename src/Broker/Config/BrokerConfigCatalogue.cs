

namespace Broker.Config;

/// <summary>
/// The broker properties we know, with Apache Kafka's defaults (KafkaConfig, ServerLogConfigs,
/// GroupCoordinatorConfig, TransactionStateManagerConfigs). Keys not listed here are accepted
/// with a warning, as Kafka logs "The configuration 'x' was supplied but isn't a known config".
/// Deliberate differences: <c>listeners</c> defaults to 127.0.0.1:9092 (Kafka binds all
/// interfaces with PLAINTEXT://:9092) and <c>log.dirs</c> to ./data (Kafka: /tmp/kafka-logs).
/// </summary>
public static class BrokerConfigCatalogue
{
    private const long Day = 24L * 60 * 60 * 1000;

    public static IReadOnlyDictionary<string, ConfigDef> All { get; } = Build();

    public static ConfigDef? Find(string key) => All.TryGetValue(key, out ConfigDef? def) ? def : null;

    private static Dictionary<string, ConfigDef> Build()
    {
        var defs = new List<ConfigDef>
        {
            // Server basics
            new("node.id", ConfigType.Int, "1", "The node id of this broker (KRaft). Ours defaults to 1 so a bare start works.") { Validator = Validators.AtLeast(0) },
            new("broker.id", ConfigType.Int, "-1", "Legacy broker id; when set it must equal node.id.") { Validator = Validators.AtLeast(-1) },
            new("process.roles", ConfigType.List, "broker,controller", "Roles of this node; one node is both.") { Validator = Validators.ListIn("broker", "controller") },
            new("cluster.id", ConfigType.String, null, "Cluster id; generated and stored in meta.properties when absent. Ours."),
            new("listeners", ConfigType.List, "PLAINTEXT://127.0.0.1:9092", "Listener URIs. Kafka's default binds all interfaces (PLAINTEXT://:9092); ours binds loopback.") { Validator = Validators.NonEmptyList },
            new("advertised.listeners", ConfigType.List, null, "Listener URIs given to clients in Metadata; defaults to listeners."),
            new("listener.security.protocol.map", ConfigType.String, "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", "Listener name to security protocol."),
            new("inter.broker.listener.name", ConfigType.String, null, "Listener used between brokers."),
            new("controller.listener.names", ConfigType.List, null, "Listener names of the controller."),
            new("controller.quorum.voters", ConfigType.List, null, "Static voters id@host:port."),
            new("controller.quorum.bootstrap.servers", ConfigType.List, null, "Controller bootstrap servers."),
            new("broker.rack", ConfigType.String, null, "Rack of this broker."),
            new("num.network.threads", ConfigType.Int, "3", "Accepted for compatibility; the network layer is asynchronous.") { Validator = Validators.AtLeast(1) },
            new("num.io.threads", ConfigType.Int, "8", "Accepted for compatibility; handlers run on the thread pool.") { Validator = Validators.AtLeast(1) },
            new("queued.max.requests", ConfigType.Int, "500", "Bound on requests queued; ours bounds in-flight requests per connection.") { Validator = Validators.AtLeast(1) },
            new("socket.send.buffer.bytes", ConfigType.Int, "102400", "SO_SNDBUF (-1 = OS default)."),
            new("socket.receive.buffer.bytes", ConfigType.Int, "102400", "SO_RCVBUF (-1 = OS default)."),
            new("socket.request.max.bytes", ConfigType.Int, "104857600", "Largest request frame accepted; larger closes the connection.") { Validator = Validators.AtLeast(1) },
            new("socket.listen.backlog.size", ConfigType.Int, "50", "Listen backlog.") { Validator = Validators.AtLeast(1) },
            new("connections.max.idle.ms", ConfigType.Long, "600000", "Close connections idle this long."),
            new("max.connections", ConfigType.Int, "2147483647", "Bound on open connections.") { Validator = Validators.AtLeast(0) },
            new("request.timeout.ms", ConfigType.Int, "30000", "Request timeout.") { Validator = Validators.AtLeast(0) },
            new("max.incremental.fetch.session.cache.slots", ConfigType.Int, "1000", "Fetch sessions cached (KIP-227).") { Validator = Validators.AtLeast(0) },
            new("fetch.max.bytes", ConfigType.Int, "57671680", "Largest fetch response.") { Validator = Validators.AtLeast(1024) },
            new("metrics.port", ConfigType.Int, "0", "HTTP port for Prometheus metrics (0 = off). Ours; Kafka uses JMX.") { IsExtension = true, Validator = Validators.Between(0, 65535) },
            new("metrics.host", ConfigType.String, "127.0.0.1", "Interface for the metrics endpoint. Ours.") { IsExtension = true },
            new("shutdown.timeout.ms", ConfigType.Long, "30000", "How long a clean shutdown may take before the host gives up. Ours.") { IsExtension = true, Validator = Validators.AtLeast(0) },
            new("max.inflight.requests.per.connection", ConfigType.Int, "100", "Requests read ahead of their responses on one connection before reading pauses. Ours.") { IsExtension = true, Validator = Validators.AtLeast(1) },

            // Topics and logs
            new("log.dirs", ConfigType.List, null, "Directories for partition logs; defaults to log.dir."),
            new("log.dir", ConfigType.String, "./data", "Directory for partition logs when log.dirs is unset. Kafka: /tmp/kafka-logs; ours ./data."),
            new("num.partitions", ConfigType.Int, "1", "Partitions of auto-created topics.") { Validator = Validators.AtLeast(1), IsDynamic = false },
            new("default.replication.factor", ConfigType.Int, "1", "Replication factor of auto-created topics.") { Validator = Validators.AtLeast(1) },
            new("auto.create.topics.enable", ConfigType.Boolean, "true", "Create a topic when a client asks for metadata of an unknown one."),
            new("delete.topic.enable", ConfigType.Boolean, "true", "Allow DeleteTopics."),
            new("message.max.bytes", ConfigType.Int, "1048588", "Largest record batch accepted (topic: max.message.bytes).") { Validator = Validators.AtLeast(0), IsDynamic = true },
            new("log.segment.bytes", ConfigType.Int, "1073741824", "Segment size (topic: segment.bytes).") { Validator = Validators.AtLeast(1024 * 1024), IsDynamic = true },
            new("log.roll.ms", ConfigType.Long, null, "Segment age before rolling (topic: segment.ms); log.roll.hours when unset.") { IsDynamic = true },
            new("log.roll.hours", ConfigType.Int, "168", "Segment age in hours.") { Validator = Validators.AtLeast(1) },
            new("log.roll.jitter.ms", ConfigType.Long, null, "Jitter for segment rolls."),
            new("log.roll.jitter.hours", ConfigType.Int, "0", "Jitter for segment rolls in hours.") { Validator = Validators.AtLeast(0) },
            new("log.retention.ms", ConfigType.Long, null, "Retention by time (topic: retention.ms), -1 = forever; else minutes, else hours.") { IsDynamic = true },
            new("log.retention.minutes", ConfigType.Int, null, "Retention by time in minutes."),
            new("log.retention.hours", ConfigType.Int, "168", "Retention by time in hours."),
            new("log.retention.bytes", ConfigType.Long, "-1", "Retention by size per partition (topic: retention.bytes).") { IsDynamic = true },
            new("log.retention.check.interval.ms", ConfigType.Long, "300000", "How often retention runs.") { Validator = Validators.AtLeast(1) },
            new("log.cleanup.policy", ConfigType.List, "delete", "delete and/or compact (topic: cleanup.policy).") { Validator = Validators.ListIn("delete", "compact"), IsDynamic = true },
            new("log.cleaner.enable", ConfigType.Boolean, "true", "Run the log cleaner for compacted topics."),
            new("log.cleaner.min.cleanable.ratio", ConfigType.Double, "0.5", "Dirty ratio that triggers cleaning.") { Validator = v => v is double d && (d < 0 || d > 1) ? "Value must be between 0 and 1" : null, IsDynamic = true },
            new("log.cleaner.delete.retention.ms", ConfigType.Long, "86400000", "How long tombstones are kept.") { Validator = Validators.AtLeast(0), IsDynamic = true },
            new("log.cleaner.backoff.ms", ConfigType.Long, "15000", "Pause between the cleaner's passes over the logs.") { Validator = Validators.AtLeast(0) },
            new("log.flush.interval.messages", ConfigType.Long, "9223372036854775807", "fsync after this many messages (topic: flush.messages).") { Validator = Validators.AtLeast(1), IsDynamic = true },
            new("log.flush.interval.ms", ConfigType.Long, null, "fsync when the last flush is older (topic: flush.ms); defaults to log.flush.scheduler.interval.ms.") { IsDynamic = true },
            new("log.flush.scheduler.interval.ms", ConfigType.Long, "9223372036854775807", "How often the flusher checks."),
            new("log.flush.offset.checkpoint.interval.ms", ConfigType.Int, "60000", "How often recovery points are checkpointed.") { Validator = Validators.AtLeast(0) },
            new("log.index.interval.bytes", ConfigType.Int, "4096", "Bytes between index entries (topic: index.interval.bytes).") { Validator = Validators.AtLeast(0), IsDynamic = true },
            new("log.index.size.max.bytes", ConfigType.Int, "10485760", "Index file size (topic: segment.index.bytes).") { Validator = Validators.AtLeast(4), IsDynamic = true },
            new("log.message.timestamp.type", ConfigType.String, "CreateTime", "CreateTime or LogAppendTime (topic: message.timestamp.type).") { Validator = Validators.In("CreateTime", "LogAppendTime"), IsDynamic = true },
            new("log.message.timestamp.before.max.ms", ConfigType.Long, "9223372036854775807", "How far in the past a record timestamp may be (KIP-937).") { Validator = Validators.AtLeast(0), IsDynamic = true },
            new("log.message.timestamp.after.max.ms", ConfigType.Long, "3600000", "How far in the future a record timestamp may be (KIP-937).") { Validator = Validators.AtLeast(0), IsDynamic = true },
            new("log.preallocate", ConfigType.Boolean, "false", "Preallocate segment files."),
            new("log.segment.delete.delay.ms", ConfigType.Long, "60000", "Delay before deleted segments' files go (topic: file.delete.delay.ms).") { Validator = Validators.AtLeast(0) },
            new("log.segment.open.handles.max", ConfigType.Int, "1024", "Sealed segments whose files may be open at once, all partitions together; idle ones are closed and reopened on use. Ours; Kafka keeps every segment open and relies on the OS file limit.") { IsExtension = true, Validator = Validators.AtLeast(1) },
            new("num.recovery.threads.per.data.dir", ConfigType.Int, "2", "Threads for log recovery.") { Validator = Validators.AtLeast(1) },
            new("min.insync.replicas", ConfigType.Int, "1", "Replicas that must acknowledge acks=all.") { Validator = Validators.AtLeast(1), IsDynamic = true },
            new("compression.type", ConfigType.String, "producer", "Topic compression (topic: compression.type).") { Validator = Validators.In("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), IsDynamic = true },
            new("unclean.leader.election.enable", ConfigType.Boolean, "false", "Allow out-of-sync leaders.") { IsDynamic = true },
            new("replica.lag.time.max.ms", ConfigType.Long, "30000", "Follower lag before leaving the ISR."),
            new("replica.fetch.max.bytes", ConfigType.Int, "1048576", "Follower fetch bytes per partition.") { Validator = Validators.AtLeast(0) },
            new("replica.fetch.wait.max.ms", ConfigType.Int, "500", "Follower fetch wait."),
            new("num.replica.fetchers", ConfigType.Int, "1", "Follower fetcher threads.") { Validator = Validators.AtLeast(1) },

            // Group coordinator
            new("offsets.topic.num.partitions", ConfigType.Int, "50", "Partitions of __consumer_offsets.") { Validator = Validators.AtLeast(1) },
            new("offsets.topic.replication.factor", ConfigType.Short, "3", "Replication factor of __consumer_offsets (capped at the live brokers).") { Validator = Validators.AtLeast(1) },
            new("offsets.topic.segment.bytes", ConfigType.Int, "104857600", "Segment size of __consumer_offsets.") { Validator = Validators.AtLeast(1) },
            new("offsets.retention.minutes", ConfigType.Int, "10080", "How long committed offsets of empty groups are kept.") { Validator = Validators.AtLeast(1) },
            new("offsets.retention.check.interval.ms", ConfigType.Long, "600000", "How often expired offsets are removed.") { Validator = Validators.AtLeast(1) },
            new("offset.metadata.max.bytes", ConfigType.Int, "4096", "Largest offset commit metadata."),
            new("offsets.commit.timeout.ms", ConfigType.Int, "5000", "Offset commit timeout.") { Validator = Validators.AtLeast(1) },
            new("offsets.load.buffer.size", ConfigType.Int, "5242880", "Read size while loading offsets.") { Validator = Validators.AtLeast(1) },
            new("group.initial.rebalance.delay.ms", ConfigType.Int, "3000", "Delay of a new group's first rebalance."),
            new("group.min.session.timeout.ms", ConfigType.Int, "6000", "Smallest classic session timeout."),
            new("group.max.session.timeout.ms", ConfigType.Int, "1800000", "Largest classic session timeout."),
            new("group.max.size", ConfigType.Int, "2147483647", "Largest classic group.") { Validator = Validators.AtLeast(1) },
            new("group.coordinator.rebalance.protocols", ConfigType.List, "classic,consumer", "Enabled group protocols (KIP-848).") { Validator = Validators.ListIn("classic", "consumer", "share", "streams") },
            new("group.consumer.session.timeout.ms", ConfigType.Int, "45000", "KIP-848 session timeout.") { Validator = Validators.AtLeast(1) },
            new("group.consumer.min.session.timeout.ms", ConfigType.Int, "45000", "KIP-848 smallest session timeout.") { Validator = Validators.AtLeast(1) },
            new("group.consumer.max.session.timeout.ms", ConfigType.Int, "60000", "KIP-848 largest session timeout.") { Validator = Validators.AtLeast(1) },
            new("group.consumer.heartbeat.interval.ms", ConfigType.Int, "5000", "KIP-848 heartbeat interval.") { Validator = Validators.AtLeast(1) },
            new("group.consumer.min.heartbeat.interval.ms", ConfigType.Int, "5000", "KIP-848 smallest heartbeat interval.") { Validator = Validators.AtLeast(1) },
            new("group.consumer.max.heartbeat.interval.ms", ConfigType.Int, "15000", "KIP-848 largest heartbeat interval.") { Validator = Validators.AtLeast(1) },
            new("group.consumer.max.size", ConfigType.Int, "2147483647", "Largest consumer group.") { Validator = Validators.AtLeast(1) },
            new("group.consumer.assignors", ConfigType.List, "uniform,range", "Server-side assignors; the first is the default.") { Validator = Validators.NonEmptyList },
            new("group.consumer.migration.policy", ConfigType.String, "bidirectional", "Classic/consumer group conversion.") { Validator = Validators.In("disabled", "downgrade", "upgrade", "bidirectional") },

            // Transactions
            new("transactional.id.expiration.ms", ConfigType.Int, "604800000", "Expire idle transactional ids.") { Validator = Validators.AtLeast(1) },
            new("transaction.max.timeout.ms", ConfigType.Int, "900000", "Largest transaction timeout a producer may ask for.") { Validator = Validators.AtLeast(1) },
            new("transaction.state.log.num.partitions", ConfigType.Int, "50", "Partitions of __transaction_state.") { Validator = Validators.AtLeast(1) },
            new("transaction.state.log.replication.factor", ConfigType.Short, "3", "Replication factor of __transaction_state.") { Validator = Validators.AtLeast(1) },
            new("transaction.state.log.min.isr", ConfigType.Int, "2", "min.insync.replicas of __transaction_state.") { Validator = Validators.AtLeast(1) },
            new("transaction.state.log.segment.bytes", ConfigType.Int, "104857600", "Segment size of __transaction_state.") { Validator = Validators.AtLeast(1) },
            new("transaction.state.log.load.buffer.size", ConfigType.Int, "5242880", "Read size while loading transactions.") { Validator = Validators.AtLeast(1) },
            new("transaction.abort.timed.out.transaction.cleanup.interval.ms", ConfigType.Int, "10000", "How often timed-out transactions are aborted.") { Validator = Validators.AtLeast(1) },
            new("transaction.remove.expired.transaction.cleanup.interval.ms", ConfigType.Int, "3600000", "How often expired transactional ids are removed.") { Validator = Validators.AtLeast(1) },
            new("transaction.partition.verification.enable", ConfigType.Boolean, "true", "KIP-890 verification of transactional produce."),
            new("producer.id.expiration.ms", ConfigType.Int, "86400000", "Expire idle producer ids.") { Validator = Validators.AtLeast(1) },
            new("producer.id.expiration.check.interval.ms", ConfigType.Int, "600000", "How often producer ids expire.") { Validator = Validators.AtLeast(1) },
        };

        var map = new Dictionary<string, ConfigDef>(StringComparer.Ordinal);
        foreach (ConfigDef def in defs) map.Add(def.Name, def);
        return map;
    }

    internal const long DefaultRetentionMs = 7 * Day;
}
