namespace Broker.Coordinator.Group.Assignors;

/// <summary>One member as an assignor sees it: its id, rack and the ids of the topics it subscribes to.</summary>
public sealed record AssignmentMember(string MemberId, string? RackId, IReadOnlyCollection<Guid> SubscribedTopicIds);

/// <summary>The input of a server-side assignment (KIP-848 GroupSpec + SubscribedTopicDescriber).</summary>
public sealed record AssignmentSpec(
    IReadOnlyList<AssignmentMember> Members,
    /// <summary>Partition count of every subscribed topic that exists.</summary>
    IReadOnlyDictionary<Guid, int> TopicPartitionCounts,
    /// <summary>The previous target assignment, so an assignor can be sticky.</summary>
    IReadOnlyDictionary<string, TopicPartitionSet> PreviousAssignment);

/// <summary>
/// A KIP-848 server-side assignor (Kafka's ConsumerGroupPartitionAssignor). Assignors are
/// deterministic and must assign every partition of a subscribed topic to exactly one member
/// subscribed to that topic.
/// </summary>
public interface IConsumerGroupAssignor
{
    string Name { get; }
    IReadOnlyDictionary<string, TopicPartitionSet> Assign(AssignmentSpec spec);
}
