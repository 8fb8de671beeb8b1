using System.Net;

namespace Broker.Coordinator.Group;

public readonly record struct CoordinatorNode(int NodeId, string Host, int Port);

/// <summary>Where the coordinator of a __consumer_offsets partition is (FindCoordinator).</summary>
public interface ICoordinatorNodeResolver
{
    /// <summary>
    /// The leader of __consumer_offsets-partition as reachable on the listener the client used;
    /// null while the topic is being created or the partition has no leader
    /// (the client then gets COORDINATOR_NOT_AVAILABLE and retries).
    /// </summary>
    CoordinatorNode? GroupCoordinatorFor(int partition, string listenerName);
}

/// <summary>
/// Implemented by the transaction coordinator when it exists; until one is registered,
/// FindCoordinator answers key type TRANSACTION with COORDINATOR_NOT_AVAILABLE.
/// </summary>
public interface ITransactionCoordinatorLocator
{
    CoordinatorNode? TransactionCoordinatorFor(string transactionalId, string listenerName);
}

public static class GroupClientHost
{
    /// <summary>Kafka reports a member's host as "/" + its IP address.</summary>
    public static string From(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint ip => "/" + ip.Address,
        null => "/unknown",
        _ => "/" + endPoint,
    };
}
