using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

/// <summary>
/// Starts and stops the group coordinator with the broker. At start it makes sure
/// __consumer_offsets exists (compacted, offsets.topic.num.partitions partitions; Kafka creates it
/// on the first FindCoordinator, we create it up front so the first group does not wait) and
/// loads every partition this broker leads. Requests for a partition still loading get
/// COORDINATOR_LOAD_IN_PROGRESS. At stop it unloads every shard (pending joins get NOT_COORDINATOR).
///
/// Known gap: leadership changes after start (a cluster failover) are not followed yet: the
/// replica manager has no leadership-change notification to subscribe to.
/// </summary>
public sealed class GroupCoordinatorLifecycle(GroupCoordinator coordinator, ReplicaManager replicas, TopicMetadataStore metadata,
    ILogger<GroupCoordinatorLifecycle> logger) : IHostedService
{
    private readonly List<Task> _loads = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var config = coordinator.Config;
        if (metadata.GetTopic(GroupPartitioner.ConsumerOffsetsTopic) is null)
        {
            var configs = new Dictionary<string, string>
            {
                ["cleanup.policy"] = "compact",
                ["segment.bytes"] = config.OffsetsTopicSegmentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["compression.type"] = "producer",
            };
            // Capped at the live brokers, as Kafka does: a single node gets replication factor 1.
            var result = metadata.CreateTopic(GroupPartitioner.ConsumerOffsetsTopic, config.OffsetsTopicNumPartitions, 1, configs);
            if (!result.Succeeded && result.Error != Broker.Protocol.ErrorCode.TopicAlreadyExists)
                logger.LogError("Creating {Topic} failed: {Error} {Message}", GroupPartitioner.ConsumerOffsetsTopic, result.Error, result.ErrorMessage);
        }
        int partitions = metadata.GetTopic(GroupPartitioner.ConsumerOffsetsTopic)?.PartitionCount ?? 0;
        if (partitions != config.OffsetsTopicNumPartitions)
            logger.LogWarning("{Topic} has {Actual} partitions but offsets.topic.num.partitions is {Configured}; groups map by the configured count",
                GroupPartitioner.ConsumerOffsetsTopic, partitions, config.OffsetsTopicNumPartitions);
        for (int p = 0; p < Math.Min(partitions, config.OffsetsTopicNumPartitions); p++)
        {
            var partition = replicas.GetPartition(new TopicPartition(GroupPartitioner.ConsumerOffsetsTopic, p));
            if (partition is null || !partition.IsLeader) continue;
            int index = p;
            _loads.Add(LoadAsync(index, cancellationToken));
        }
        return Task.CompletedTask;
    }

    private async Task LoadAsync(int partition, CancellationToken cancellationToken)
    {
        try
        {
            await coordinator.OnElectionAsync(partition, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Loading {Topic}-{Partition} failed", GroupPartitioner.ConsumerOffsetsTopic, partition);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try { await Task.WhenAll(_loads).WaitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await coordinator.DisposeAsync().ConfigureAwait(false);
    }
}
