using System.Diagnostics;
using Broker.Protocol;
using Broker.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Replication.Metadata;

/// <summary>
/// Topics of the cluster (names, topic ids, partition counts, per-topic config overrides) and the
/// producer id block counter. Single-node stand-in for KRaft's metadata log + controller: every
/// change is validated, written durably to <see cref="MetadataFile"/> (temp + fsync + rename) and
/// only then published and announced through the events, so a change that was acknowledged
/// survives a crash. Reloaded by <see cref="Load"/> at startup.
///
/// Threads: reads (<see cref="GetTopic(string)"/>, <see cref="Topics"/>) are lock-free over an
/// immutable snapshot. Changes are serialised on one lock, and the events are raised under it, in
/// the order of the changes; listeners must not call back into a mutating method.
/// </summary>
public sealed class TopicMetadataStore
{
    private readonly object _lock = new();
    private readonly TopicMetadataStoreOptions _options;
    private readonly ILogger _logger;
    private readonly string _path;
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private long _nextProducerIdBlockStart;
    private bool _loaded;

    public TopicMetadataStore(TopicMetadataStoreOptions options, ILogger<TopicMetadataStore>? logger = null)
    {
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _path = Path.Combine(options.MetadataDir, MetadataFile.FileName);
    }

    /// <summary>Raised after a topic was created (and persisted).</summary>
    public event Action<TopicMetadata>? TopicCreated;

    /// <summary>Raised after a topic was deleted (and persisted).</summary>
    public event Action<TopicMetadata>? TopicDeleted;

    /// <summary>Raised after partitions were added to a topic.</summary>
    public event Action<PartitionsCreatedEvent>? PartitionsCreated;

    /// <summary>Raised after a topic's config overrides changed.</summary>
    public event Action<TopicMetadata>? TopicConfigChanged;

    public TopicMetadataStoreOptions Options => _options;

    /// <summary>Bumped on every change (cheap change detection for caches and the group coordinator).</summary>
    public long MetadataVersion => _snapshot.Version;

    /// <summary>All topics, internal ones included (a snapshot; never changes under the caller).</summary>
    public IReadOnlyCollection<TopicMetadata> Topics => _snapshot.ByName.Values;

    public int TopicCount => _snapshot.ByName.Count;

    /// <summary>First producer id of the next block (every id below it was handed out in some block).</summary>
    public long NextProducerIdBlockStart
    {
        get
        {
            lock (_lock)
            {
                return _nextProducerIdBlockStart;
            }
        }
    }

    /// <summary>Reads the metadata file (no file: an empty cluster). Call once, before anything else.</summary>
    public void Load()
    {
        lock (_lock)
        {
            if (_loaded)
            {
                return;
            }

            Directory.CreateDirectory(_options.MetadataDir);
            MetadataFile? file = MetadataFile.Read(_path);
            var byName = new Dictionary<string, TopicMetadata>(StringComparer.Ordinal);
            var byId = new Dictionary<Guid, TopicMetadata>();
            if (file is not null)
            {
                foreach (MetadataFile.TopicEntry entry in file.Topics)
                {
                    if (entry.Partitions < 1 || entry.TopicId == Guid.Empty || !TopicNameValidator.IsValid(entry.Name))
                    {
                        throw new InvalidDataException($"{_path}: invalid topic entry '{entry.Name}'.");
                    }

                    var topic = new TopicMetadata(entry.Name, entry.TopicId, entry.Partitions, entry.ReplicationFactor,
                        new Dictionary<string, string>(entry.Configs, StringComparer.Ordinal), entry.Internal);
                    byName.Add(topic.Name, topic);
                    byId.Add(topic.TopicId, topic);
                }

                _nextProducerIdBlockStart = file.NextProducerIdBlockStart;
            }

            _snapshot = new Snapshot(byName, byId, 1);
            _loaded = true;
            _logger.LogInformation("Loaded {Count} topics from {Path}", byName.Count, _path);
        }
    }

    public TopicMetadata? GetTopic(string name) =>
        _snapshot.ByName.TryGetValue(name, out TopicMetadata? topic) ? topic : null;

    public TopicMetadata? GetTopic(Guid topicId) =>
        _snapshot.ById.TryGetValue(topicId, out TopicMetadata? topic) ? topic : null;

    public bool Contains(TopicPartition topicPartition) =>
        GetTopic(topicPartition.Topic) is { } topic && topicPartition.Partition >= 0 && topicPartition.Partition < topic.PartitionCount;

    /// <summary>
    /// CreateTopics for one topic (Kafka ReplicationControlManager.createTopic). Partition count and
    /// replication factor -1 take num.partitions / default.replication.factor. Errors:
    /// INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
    /// INVALID_CONFIG. With <paramref name="validateOnly"/> nothing changes but the result says what would be created.
    /// </summary>
    public TopicOperationResult CreateTopic(string name, int numPartitions, short replicationFactor,
        IReadOnlyDictionary<string, string>? configs = null, bool validateOnly = false)
    {
        if (TopicNameValidator.Validate(name, out string? invalid) != ErrorCode.None)
        {
            return TopicOperationResult.Fail(ErrorCode.InvalidTopicException, invalid!);
        }

        int partitions = numPartitions == -1 ? _options.DefaultNumPartitions : numPartitions;
        short replicas = replicationFactor == -1 ? _options.DefaultReplicationFactor : replicationFactor;
        if (partitions <= 0)
        {
            return TopicOperationResult.Fail(ErrorCode.InvalidPartitions, "Number of partitions was set to an invalid non-positive value.");
        }

        if (replicas <= 0)
        {
            return TopicOperationResult.Fail(ErrorCode.InvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.");
        }

        if (replicas > _options.AliveBrokerCount)
        {
            return TopicOperationResult.Fail(ErrorCode.InvalidReplicationFactor,
                $"Unable to replicate the partition {replicas} time(s): The target replication factor of {replicas} cannot be reached because only {_options.AliveBrokerCount} broker(s) are registered.");
        }

        var configCopy = new Dictionary<string, string>(StringComparer.Ordinal);
        if (configs is not null)
        {
            foreach (KeyValuePair<string, string> entry in configs)
            {
                configCopy[entry.Key] = entry.Value;
            }
        }

        (ErrorCode configError, string? configMessage) = ValidateConfigs(configCopy);
        if (configError != ErrorCode.None)
        {
            return TopicOperationResult.Fail(configError, configMessage ?? "Invalid topic config.");
        }

        lock (_lock)
        {
            EnsureLoaded();
            Snapshot snapshot = _snapshot;
            if (snapshot.ByName.ContainsKey(name))
            {
                return TopicOperationResult.Fail(ErrorCode.TopicAlreadyExists, $"Topic '{name}' already exists.");
            }

            foreach (string existing in snapshot.ByName.Keys)
            {
                if (TopicNameValidator.HasCollision(existing, name))
                {
                    return TopicOperationResult.Fail(ErrorCode.InvalidTopicException,
                        $"Topic '{name}' collides with existing topic: {existing}");
                }
            }

            Guid topicId = NewTopicId(snapshot);
            var topic = new TopicMetadata(name, topicId, partitions, replicas, configCopy, TopicMetadata.IsInternalTopicName(name));
            if (validateOnly)
            {
                return TopicOperationResult.Ok(topic);
            }

            var byName = new Dictionary<string, TopicMetadata>(snapshot.ByName, StringComparer.Ordinal) { [name] = topic };
            var byId = new Dictionary<Guid, TopicMetadata>(snapshot.ById) { [topicId] = topic };
            Publish(new Snapshot(byName, byId, snapshot.Version + 1));
            _logger.LogInformation("Created topic {Topic} ({TopicId}) with {Partitions} partitions", name, topicId, partitions);
            Raise(TopicCreated, topic);
            return TopicOperationResult.Ok(topic);
        }
    }

    /// <summary>DeleteTopics for one topic by name: UNKNOWN_TOPIC_OR_PARTITION when absent.</summary>
    public TopicOperationResult DeleteTopic(string name)
    {
        lock (_lock)
        {
            EnsureLoaded();
            if (!_snapshot.ByName.TryGetValue(name, out TopicMetadata? topic))
            {
                return TopicOperationResult.Fail(ErrorCode.UnknownTopicOrPartition, "This server does not host this topic-partition.");
            }

            return DeleteLocked(topic);
        }
    }

    /// <summary>DeleteTopics for one topic by id (v6+): UNKNOWN_TOPIC_ID when absent.</summary>
    public TopicOperationResult DeleteTopic(Guid topicId)
    {
        lock (_lock)
        {
            EnsureLoaded();
            if (!_snapshot.ById.TryGetValue(topicId, out TopicMetadata? topic))
            {
                return TopicOperationResult.Fail(ErrorCode.UnknownTopicId, "This server does not host this topic ID.");
            }

            return DeleteLocked(topic);
        }
    }

    /// <summary>
    /// CreatePartitions: grows the topic to <paramref name="newTotalCount"/> partitions.
    /// INVALID_PARTITIONS when not larger than today (Kafka never shrinks a topic).
    /// </summary>
    public TopicOperationResult CreatePartitions(string name, int newTotalCount, bool validateOnly = false)
    {
        lock (_lock)
        {
            EnsureLoaded();
            Snapshot snapshot = _snapshot;
            if (!snapshot.ByName.TryGetValue(name, out TopicMetadata? topic))
            {
                return TopicOperationResult.Fail(ErrorCode.UnknownTopicOrPartition, "This server does not host this topic-partition.");
            }

            if (newTotalCount < topic.PartitionCount)
            {
                return TopicOperationResult.Fail(ErrorCode.InvalidPartitions,
                    $"Topic currently has {topic.PartitionCount} partitions, which is higher than the requested {newTotalCount}.");
            }

            if (newTotalCount == topic.PartitionCount)
            {
                return TopicOperationResult.Fail(ErrorCode.InvalidPartitions, $"Topic already has {topic.PartitionCount} partitions.");
            }

            var grown = topic with { PartitionCount = newTotalCount };
            if (validateOnly)
            {
                return TopicOperationResult.Ok(grown);
            }

            Replace(snapshot, grown);
            _logger.LogInformation("Topic {Topic}: partitions {Old} -> {New}", name, topic.PartitionCount, newTotalCount);
            Raise(PartitionsCreated, new PartitionsCreatedEvent(grown, topic.PartitionCount));
            return TopicOperationResult.Ok(grown);
        }
    }

    /// <summary>
    /// AlterConfigs (legacy, whole set): the topic's overrides become exactly <paramref name="configs"/>.
    /// </summary>
    public TopicOperationResult ReplaceTopicConfigs(string name, IReadOnlyDictionary<string, string> configs, bool validateOnly = false)
    {
        var full = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> entry in configs)
        {
            full[entry.Key] = entry.Value;
        }

        return AlterTopicConfigs(name, _ => full, validateOnly);
    }

    /// <summary>
    /// IncrementalAlterConfigs: a non-null value sets the override, a null value removes it (back
    /// to the broker default). Other overrides stay.
    /// </summary>
    public TopicOperationResult IncrementalAlterTopicConfigs(string name, IReadOnlyDictionary<string, string?> changes, bool validateOnly = false) =>
        AlterTopicConfigs(name, current =>
        {
            var full = new Dictionary<string, string>(current, StringComparer.Ordinal);
            foreach (KeyValuePair<string, string?> change in changes)
            {
                if (change.Value is null)
                {
                    full.Remove(change.Key);
                }
                else
                {
                    full[change.Key] = change.Value;
                }
            }

            return full;
        }, validateOnly);

    /// <summary>
    /// Hands out <paramref name="blockSize"/> producer ids that were never handed out before, the
    /// block persisted before it is returned (Kafka's ProducerIdsRecord / AllocateProducerIds), so
    /// ids never repeat across restarts. Returns the first id of the block.
    /// </summary>
    public long AllocateProducerIdBlock(int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        lock (_lock)
        {
            EnsureLoaded();
            long start = _nextProducerIdBlockStart;
            if (start > long.MaxValue - blockSize)
            {
                throw new InvalidOperationException("Producer ids are exhausted.");
            }

            _nextProducerIdBlockStart = start + blockSize;
            try
            {
                Persist(_snapshot);
            }
            catch
            {
                _nextProducerIdBlockStart = start;
                throw;
            }

            return start;
        }
    }

    private TopicOperationResult AlterTopicConfigs(string name, Func<IReadOnlyDictionary<string, string>, Dictionary<string, string>> change, bool validateOnly)
    {
        lock (_lock)
        {
            EnsureLoaded();
            Snapshot snapshot = _snapshot;
            if (!snapshot.ByName.TryGetValue(name, out TopicMetadata? topic))
            {
                return TopicOperationResult.Fail(ErrorCode.UnknownTopicOrPartition, "This server does not host this topic-partition.");
            }

            Dictionary<string, string> full = change(topic.Configs);
            (ErrorCode error, string? message) = ValidateConfigs(full);
            if (error != ErrorCode.None)
            {
                return TopicOperationResult.Fail(error, message ?? "Invalid topic config.");
            }

            var altered = topic with { Configs = full };
            if (validateOnly)
            {
                return TopicOperationResult.Ok(altered);
            }

            Replace(snapshot, altered);
            Raise(TopicConfigChanged, altered);
            return TopicOperationResult.Ok(altered);
        }
    }

    private TopicOperationResult DeleteLocked(TopicMetadata topic)
    {
        Snapshot snapshot = _snapshot;
        var byName = new Dictionary<string, TopicMetadata>(snapshot.ByName, StringComparer.Ordinal);
        var byId = new Dictionary<Guid, TopicMetadata>(snapshot.ById);
        byName.Remove(topic.Name);
        byId.Remove(topic.TopicId);
        Publish(new Snapshot(byName, byId, snapshot.Version + 1));
        _logger.LogInformation("Deleted topic {Topic} ({TopicId})", topic.Name, topic.TopicId);
        Raise(TopicDeleted, topic);
        return TopicOperationResult.Ok(topic);
    }

    private void Replace(Snapshot snapshot, TopicMetadata topic)
    {
        var byName = new Dictionary<string, TopicMetadata>(snapshot.ByName, StringComparer.Ordinal) { [topic.Name] = topic };
        var byId = new Dictionary<Guid, TopicMetadata>(snapshot.ById) { [topic.TopicId] = topic };
        Publish(new Snapshot(byName, byId, snapshot.Version + 1));
    }

    /// <summary>Writes, then publishes: readers never see a change that is not durable.</summary>
    private void Publish(Snapshot snapshot)
    {
        Debug.Assert(Monitor.IsEntered(_lock), "changes are serialised on the store's lock");
        Debug.Assert(snapshot.ByName.Count == snapshot.ById.Count, "name and id maps hold the same topics");
        Persist(snapshot);
        _snapshot = snapshot;
    }

    private void Persist(Snapshot snapshot)
    {
        var file = new MetadataFile { NextProducerIdBlockStart = _nextProducerIdBlockStart };
        foreach (TopicMetadata topic in snapshot.ByName.Values)
        {
            file.Topics.Add(new MetadataFile.TopicEntry
            {
                Name = topic.Name,
                TopicId = topic.TopicId,
                Partitions = topic.PartitionCount,
                ReplicationFactor = topic.ReplicationFactor,
                Internal = topic.IsInternal,
                Configs = new Dictionary<string, string>(topic.Configs, StringComparer.Ordinal),
            });
        }

        file.Topics.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        file.Write(_path);
    }

    private (ErrorCode, string?) ValidateConfigs(IReadOnlyDictionary<string, string> configs)
    {
        if (_options.ConfigValidator is { } validator)
        {
            return validator(configs);
        }

        try
        {
            var overrides = new List<KeyValuePair<string, string?>>(configs.Count);
            foreach (KeyValuePair<string, string> entry in configs)
            {
                overrides.Add(new(entry.Key, entry.Value));
            }

            LogConfig.Default.With(overrides);
            return (ErrorCode.None, null);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return (ErrorCode.InvalidConfig, e.Message);
        }
    }

    private void Raise<T>(Action<T>? handlers, T argument)
    {
        if (handlers is null)
        {
            return;
        }

        foreach (Delegate handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action<T>)handler)(argument);
            }
            catch (Exception e)
            {
                // The change is durable already; a failing listener must not undo it or stop the others.
                _logger.LogError(e, "A metadata listener failed");
            }
        }
    }

    private void EnsureLoaded()
    {
        if (!_loaded)
        {
            throw new InvalidOperationException("TopicMetadataStore.Load() must run first.");
        }
    }

    /// <summary>A random id that is neither used nor Kafka's reserved zero / metadata-topic id.</summary>
    private static Guid NewTopicId(Snapshot snapshot)
    {
        while (true)
        {
            Guid id = Guid.NewGuid();
            if (id != Guid.Empty && !snapshot.ById.ContainsKey(id))
            {
                return id;
            }
        }
    }

    private sealed class Snapshot(Dictionary<string, TopicMetadata> byName, Dictionary<Guid, TopicMetadata> byId, long version)
    {
        public static readonly Snapshot Empty = new(new(StringComparer.Ordinal), new(), 0);

        public Dictionary<string, TopicMetadata> ByName { get; } = byName;

        public Dictionary<Guid, TopicMetadata> ById { get; } = byId;

        public long Version { get; } = version;
    }
}
