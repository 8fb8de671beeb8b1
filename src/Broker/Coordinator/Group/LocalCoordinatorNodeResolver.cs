using Broker.Replication;
using Broker.Storage;

namespace Broker.Coordinator.Group;

/// <summary>
/// Finds the coordinator of a __consumer_offsets partition: this broker when it hosts the shard,
/// otherwise nobody yet (COORDINATOR_NOT_AVAILABLE; the client retries). The address is this
/// broker's advertised endpoint for the listener the request came in on, supplied by the
/// network layer through <paramref name="endpointFor"/> (the port is only known once bound).
/// </summary>
public sealed class LocalCoordinatorNodeResolver(GroupCoordinator coordinator, ReplicaManager replicas,
    Func<string, (string Host, int Port)?> endpointFor) : ICoordinatorNodeResolver
{
    public CoordinatorNode? GroupCoordinatorFor(int partition, string listenerName)
    {
        var p = replicas.GetPartition(new TopicPartition(GroupPartitioner.ConsumerOffsetsTopic, partition));
        if (p is null || !p.IsLeader || coordinator.Shard(partition) is null) return null;
        return endpointFor(listenerName) is { } endpoint ? new CoordinatorNode(replicas.LocalBrokerId, endpoint.Host, endpoint.Port) : null;
    }
}
