using System.Collections.Concurrent;
using Broker.Protocol;
using Broker.Replication.Metadata;
using Broker.Replication.Purgatory;
using Broker.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Replication;

/// <summary>
/// The partitions this broker hosts (Kafka <c>ReplicaManager</c>): creates them from the
/// <see cref="TopicMetadataStore"/> over the <see cref="LogManager"/>'s logs, follows the
/// store's events (topics created, deleted, grown, reconfigured), appends as leader and wakes
/// the delayed produces and fetches waiting on a partition. Also the entry point the group
/// coordinator uses for __consumer_offsets (<see cref="AppendAndWaitAsync"/>, <see cref="GetPartition"/>).
///
/// Start: <see cref="Startup"/> loads the store and the logs and creates every partition; stop:
/// <see cref="Shutdown"/> answers the waiting operations and shuts the LogManager down cleanly.
/// Threads: every public method is thread-safe.
/// </summary>
public sealed class ReplicaManager : IDisposable
{
    private readonly ConcurrentDictionary<TopicPartition, Partition> _partitions = new();
    private readonly LogManager _logManager;
    private readonly TopicMetadataStore _metadata;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _lifecycleLock = new();
    private bool _started;
    private bool _shutdown;

    public ReplicaManager(LogManager logManager, TopicMetadataStore metadata, int localBrokerId, TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
    {
        _logManager = logManager;
        _metadata = metadata;
        LocalBrokerId = localBrokerId;
        _time = time ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ReplicaManager>();
        ProducePurgatory = new DelayedOperationPurgatory<DelayedProduce>("Produce", _time);
        FetchPurgatory = new DelayedOperationPurgatory<DelayedFetch>("Fetch", _time);
    }

    public int LocalBrokerId { get; }

    public TopicMetadataStore Metadata => _metadata;

    public LogManager LogManager => _logManager;

    public TimeProvider Time => _time;

    public DelayedOperationPurgatory<DelayedProduce> ProducePurgatory { get; }

    public DelayedOperationPurgatory<DelayedFetch> FetchPurgatory { get; }

    public ICollection<Partition> Partitions => _partitions.Values;

    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Loads the metadata store and the logs, creates every partition, then follows the store.</summary>
    public void Startup()
    {
        lock (_lifecycleLock)
        {
            if (_started)
            {
                return;
            }

            _metadata.Load();
            _logManager.Startup();
            _metadata.TopicCreated += OnTopicCreated;
            _metadata.TopicDeleted += OnTopicDeleted;
            _metadata.PartitionsCreated += OnPartitionsCreated;
            _metadata.TopicConfigChanged += OnTopicConfigChanged;
            foreach (TopicMetadata topic in _metadata.Topics)
            {
                CreatePartitions(topic, 0);
            }

            foreach (PartitionLog log in _logManager.AllLogs)
            {
                if (!_partitions.ContainsKey(log.TopicPartition))
                {
                    // Kafka (KRaft) deletes such stray logs; we keep the data and only refuse to serve it.
                    _logger.LogWarning("Log {Partition} is not in the topic metadata; it is not served", log.TopicPartition);
                }
            }

            _started = true;
            _logger.LogInformation("Replica manager started with {Count} partitions", _partitions.Count);
        }
    }

    /// <summary>Answers every waiting operation, then flushes and closes the logs (clean shutdown).</summary>
    public void Shutdown()
    {
        lock (_lifecycleLock)
        {
            if (_shutdown)
            {
                return;
            }

            _shutdown = true;
            _metadata.TopicCreated -= OnTopicCreated;
            _metadata.TopicDeleted -= OnTopicDeleted;
            _metadata.PartitionsCreated -= OnPartitionsCreated;
            _metadata.TopicConfigChanged -= OnTopicConfigChanged;
            ProducePurgatory.Dispose();
            FetchPurgatory.Dispose();
            _logManager.Shutdown();
        }
    }

    public void Dispose() => Shutdown();

    public Partition? GetPartition(TopicPartition topicPartition) =>
        _partitions.TryGetValue(topicPartition, out Partition? partition) ? partition : null;

    /// <summary>
    /// The partition, or the error a request about it gets: UNKNOWN_TOPIC_OR_PARTITION when the
    /// topic or partition does not exist, KAFKA_STORAGE_ERROR when its log is offline.
    /// </summary>
    public ErrorCode TryGetPartition(TopicPartition topicPartition, out Partition? partition)
    {
        if (_partitions.TryGetValue(topicPartition, out partition))
        {
            return ErrorCode.None;
        }

        return _logManager.IsOffline(topicPartition) ? ErrorCode.KafkaStorageError : ErrorCode.UnknownTopicOrPartition;
    }

    /// <summary>
    /// Appends validated batches to a partition this broker leads and wakes the operations
    /// waiting on it (fetches waiting for bytes, produces waiting for the high watermark).
    /// </summary>
    public LogAppendInfo AppendToLeader(Partition partition, ReadOnlyMemory<byte> batches, short requiredAcks)
    {
        LogAppendInfo info;
        try
        {
            info = partition.AppendRecordsToLeader(batches, requiredAcks);
        }
        catch (ObjectDisposedException)
        {
            // The log was closed under us (topic deleted or shutdown): as Kafka, the partition is gone.
            return LogAppendInfo.Failed(ErrorCode.UnknownTopicOrPartition, -1);
        }
        catch (IOException e)
        {
            _logger.LogError(e, "Append to {Partition} failed", partition.TopicPartition);
            return LogAppendInfo.Failed(ErrorCode.KafkaStorageError, -1);
        }

        if (info.Error == ErrorCode.None && !info.IsDuplicate)
        {
            TopicPartition key = partition.TopicPartition;
            FetchPurgatory.CheckAndComplete(key);
            ProducePurgatory.CheckAndComplete(key);
        }

        return info;
    }

    /// <summary>
    /// Appends to a partition and waits until the records are committed (acks=all): what the
    /// group and transaction coordinators use for their internal topics, as Kafka's
    /// CoordinatorRuntime waits for the high watermark before releasing a response.
    /// </summary>
    public async ValueTask<LogAppendInfo> AppendAndWaitAsync(TopicPartition topicPartition, ReadOnlyMemory<byte> batches, int timeoutMs, CancellationToken cancellationToken)
    {
        ErrorCode lookup = TryGetPartition(topicPartition, out Partition? partition);
        if (lookup != ErrorCode.None)
        {
            return LogAppendInfo.Failed(lookup, -1);
        }

        LogAppendInfo info = AppendToLeader(partition!, batches, -1);
        if (info.Error != ErrorCode.None)
        {
            return info;
        }

        ErrorCode error = await WaitForHighWatermarkAsync(new[] { partition! }, new[] { info.LastOffset + 1 }, timeoutMs, cancellationToken).ConfigureAwait(false) is { } errors ? errors[0] : ErrorCode.None;
        return error == ErrorCode.None ? info : info with { Error = error };
    }

    /// <summary>
    /// Waits through the produce purgatory until each partition's high watermark reaches its
    /// required offset, or the timeout (REQUEST_TIMED_OUT for the late ones). Null when all were
    /// already there (the common single-node case: no allocation of a delayed operation).
    /// </summary>
    public async ValueTask<ErrorCode[]?> WaitForHighWatermarkAsync(Partition[] partitions, long[] requiredOffsets, int timeoutMs, CancellationToken cancellationToken)
    {
        bool all = true;
        for (int i = 0; i < partitions.Length; i++)
        {
            (bool done, ErrorCode error) = partitions[i].CheckEnoughReplicasReachOffset(requiredOffsets[i]);
            if (!done || error != ErrorCode.None)
            {
                all = false;
                break;
            }
        }

        if (all)
        {
            return null;
        }

        var keys = new TopicPartition[partitions.Length];
        var errors = new ErrorCode[partitions.Length];
        var nullable = new Partition?[partitions.Length];
        for (int i = 0; i < partitions.Length; i++)
        {
            keys[i] = partitions[i].TopicPartition;
            nullable[i] = partitions[i];
        }

        var operation = new DelayedProduce(NowMs + Math.Max(0, timeoutMs), nullable, requiredOffsets, errors);
        ProducePurgatory.TryCompleteElseWatch(operation, keys);
        return await operation.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The log config of a topic: the broker's defaults with the topic's overrides.</summary>
    public LogConfig LogConfigFor(TopicMetadata topic)
    {
        var overrides = new List<KeyValuePair<string, string?>>(topic.Configs.Count);
        foreach (KeyValuePair<string, string> entry in topic.Configs)
        {
            overrides.Add(new(entry.Key, entry.Value));
        }

        return _logManager.Config.DefaultLogConfig.With(overrides);
    }

    private void CreatePartitions(TopicMetadata topic, int fromPartition)
    {
        LogConfig config = LogConfigFor(topic);
        for (int p = fromPartition; p < topic.PartitionCount; p++)
        {
            var topicPartition = new TopicPartition(topic.Name, p);
            try
            {
                PartitionLog log = _logManager.GetOrCreateLog(topicPartition, topic.TopicId, config);
                if (log.TopicId != Guid.Empty && log.TopicId != topic.TopicId)
                {
                    _logger.LogError("Log {Partition} belongs to topic id {LogTopicId}, not {TopicId}; not served", topicPartition, log.TopicId, topic.TopicId);
                    continue;
                }

                if (log.Config != config)
                {
                    log.UpdateConfig(config);
                }

                _partitions[topicPartition] = new Partition(topicPartition, topic.TopicId, log, LocalBrokerId);
            }
            catch (IOException e)
            {
                _logger.LogError(e, "Partition {Partition} is offline", topicPartition);
            }
        }
    }

    private void OnTopicCreated(TopicMetadata topic) => CreatePartitions(topic, 0);

    private void OnPartitionsCreated(PartitionsCreatedEvent created) => CreatePartitions(created.Topic, created.OldPartitionCount);

    private void OnTopicDeleted(TopicMetadata topic)
    {
        for (int p = 0; p < topic.PartitionCount; p++)
        {
            var topicPartition = new TopicPartition(topic.Name, p);
            _partitions.TryRemove(topicPartition, out _);
            _logManager.DeleteLog(topicPartition);
            // Waiting fetches and produces see the partition gone and answer now.
            FetchPurgatory.CheckAndComplete(topicPartition);
            ProducePurgatory.CheckAndComplete(topicPartition);
        }
    }

    private void OnTopicConfigChanged(TopicMetadata topic)
    {
        LogConfig config = LogConfigFor(topic);
        for (int p = 0; p < topic.PartitionCount; p++)
        {
            if (_partitions.TryGetValue(new TopicPartition(topic.Name, p), out Partition? partition))
            {
                partition.Log.UpdateConfig(config);
            }
        }
    }
}
