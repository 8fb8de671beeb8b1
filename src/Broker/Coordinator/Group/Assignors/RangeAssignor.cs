namespace Broker.Coordinator.Group.Assignors;

/// <summary>
/// Kafka's "range" server assignor: per topic, the subscribers sorted by member id get
/// contiguous ranges of partitions, the first (partitions % members) one extra. Topics with the
/// same partition count and subscribers are therefore co-partitioned (partition i of each goes
/// to the same member), which is what joins on keyed topics need.
/// </summary>
public sealed class RangeAssignor : IConsumerGroupAssignor
{
    public string Name => "range";

    public IReadOnlyDictionary<string, TopicPartitionSet> Assign(AssignmentSpec spec)
    {
        var assigned = new Dictionary<string, List<(Guid, int)>>(StringComparer.Ordinal);
        foreach (var member in spec.Members) assigned[member.MemberId] = new List<(Guid, int)>();
        foreach (var (topicId, count) in spec.TopicPartitionCounts)
        {
            var subscribers = new List<string>();
            foreach (var member in spec.Members)
                if (member.SubscribedTopicIds.Contains(topicId)) subscribers.Add(member.MemberId);
            if (subscribers.Count == 0) continue;
            subscribers.Sort(StringComparer.Ordinal);
            int quota = count / subscribers.Count, extra = count % subscribers.Count, next = 0;
            for (int i = 0; i < subscribers.Count; i++)
            {
                int take = quota + (i < extra ? 1 : 0);
                for (int k = 0; k < take; k++) assigned[subscribers[i]].Add((topicId, next++));
            }
        }
        var result = new Dictionary<string, TopicPartitionSet>(assigned.Count, StringComparer.Ordinal);
        foreach (var (memberId, partitions) in assigned) result[memberId] = TopicPartitionSet.From(partitions);
        return result;
    }
}
