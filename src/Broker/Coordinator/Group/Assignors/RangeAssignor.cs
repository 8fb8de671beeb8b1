namespace Broker.Coordinator.Group.Assignors;

/// <summary>
/// Kafka's "range" server assignor: range and sticky. Per topic, each subscriber's slot is
/// partitions / subscribers, the first (partitions % subscribers) slots one larger. A member
/// first keeps the lowest-numbered partitions of its previous target, up to its slot (one more
/// while larger slots remain and it had more); the partitions left over are handed out in
/// ascending ranges to the members still short, in member-id order. With no previous target this
/// is the classic contiguous ranges. Topics with the same partition count and subscribers stay
/// co-partitioned (partition i of each goes to the same member), because every topic goes
/// through the same steps from the same previous assignment; joins on keyed topics need that.
/// </summary>
public sealed class RangeAssignor : IConsumerGroupAssignor
{
    public string Name => "range";

    public IReadOnlyDictionary<string, TopicPartitionSet> Assign(AssignmentSpec spec)
    {
        var assigned = new Dictionary<string, List<(Guid, int)>>(StringComparer.Ordinal);
        foreach (var member in spec.Members) assigned[member.MemberId] = new List<(Guid, int)>();
        var subscribers = new List<string>();
        var retained = new HashSet<int>();
        var previous = new List<int>();
        var unfilled = new List<(string MemberId, int Remaining)>();
        foreach (var (topicId, count) in spec.TopicPartitionCounts)
        {
            subscribers.Clear();
            foreach (var member in spec.Members)
                if (member.SubscribedTopicIds.Contains(topicId)) subscribers.Add(member.MemberId);
            if (subscribers.Count == 0) continue;
            subscribers.Sort(StringComparer.Ordinal);
            int quota = count / subscribers.Count, extra = count % subscribers.Count;
            retained.Clear();
            unfilled.Clear();

            // 1. Stickiness: keep the lowest previous partitions up to the slot.
            foreach (string memberId in subscribers)
            {
                PreviousPartitions(spec, memberId, topicId, count, retained, previous);
                int keep = Math.Min(previous.Count, quota);
                for (int i = 0; i < keep; i++) Retain(assigned, memberId, topicId, previous[i], retained);
                int remaining = quota - previous.Count;
                if (remaining < 0 && extra > 0)
                {
                    extra--;
                    Retain(assigned, memberId, topicId, previous[quota], retained);
                }
                else
                {
                    unfilled.Add((memberId, remaining));
                }
            }

            // 2. The rest in ascending ranges to the members below their slot.
            int next = 0;
            foreach (var (memberId, remaining) in unfilled)
            {
                int take = remaining;
                if (extra > 0)
                {
                    take++;
                    extra--;
                }
                for (int k = 0; k < take; k++)
                {
                    while (retained.Contains(next)) next++;
                    assigned[memberId].Add((topicId, next++));
                }
            }
            System.Diagnostics.Debug.Assert(next <= count, "range assignor handed out a partition that does not exist");
        }
        var result = new Dictionary<string, TopicPartitionSet>(assigned.Count, StringComparer.Ordinal);
        foreach (var (memberId, partitions) in assigned) result[memberId] = TopicPartitionSet.From(partitions);
        return result;
    }

    /// <summary>The member's previous partitions of the topic that still exist and nobody kept yet, ascending.</summary>
    private static void PreviousPartitions(AssignmentSpec spec, string memberId, Guid topicId, int count,
        HashSet<int> retained, List<int> output)
    {
        output.Clear();
        if (!spec.PreviousAssignment.TryGetValue(memberId, out var previous)) return;
        foreach (var (topic, partition) in previous.All())
            if (topic == topicId && partition < count && !retained.Contains(partition)) output.Add(partition);
        output.Sort();
    }

    private static void Retain(Dictionary<string, List<(Guid, int)>> assigned, string memberId, Guid topicId, int partition, HashSet<int> retained)
    {
        retained.Add(partition);
        assigned[memberId].Add((topicId, partition));
    }
}
