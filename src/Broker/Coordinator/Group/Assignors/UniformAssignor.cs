namespace Broker.Coordinator.Group.Assignors;

/// <summary>
/// Kafka's "uniform" server assignor: balanced and sticky (incremental). Partitions each member
/// already has in the previous target stay with it while the member still subscribes to the
/// topic; the rest go to the least loaded eligible member; then partitions move from members
/// holding more than one above an eligible member's count until no such move exists. With equal
/// subscriptions the result is exactly balanced (counts differ by at most one) and moves only
/// what balance requires. Ties break by member id, so the result is deterministic.
/// </summary>
public sealed class UniformAssignor : IConsumerGroupAssignor
{
    public string Name => "uniform";

    public IReadOnlyDictionary<string, TopicPartitionSet> Assign(AssignmentSpec spec)
    {
        var members = new List<AssignmentMember>(spec.Members);
        members.Sort(static (a, b) => string.CompareOrdinal(a.MemberId, b.MemberId));
        int n = members.Count;
        var owned = new List<HashSet<(Guid, int)>>(n);
        var subscribers = new Dictionary<Guid, List<int>>();
        for (int i = 0; i < n; i++)
        {
            owned.Add(new HashSet<(Guid, int)>());
            foreach (var topicId in members[i].SubscribedTopicIds)
            {
                if (!spec.TopicPartitionCounts.ContainsKey(topicId)) continue;
                if (!subscribers.TryGetValue(topicId, out var list)) subscribers[topicId] = list = new List<int>();
                list.Add(i);
            }
        }

        // 1. Stickiness: keep previous partitions that are still valid, up to the member's fair
        // share (sum over its topics of partitions / subscribers, rounded up) so balancing
        // afterwards moves little.
        var taken = new HashSet<(Guid, int)>();
        for (int i = 0; i < n; i++)
        {
            if (!spec.PreviousAssignment.TryGetValue(members[i].MemberId, out var previous)) continue;
            double fairShare = 0;
            foreach (var topicId in members[i].SubscribedTopicIds)
                if (subscribers.TryGetValue(topicId, out var subs)) fairShare += (double)spec.TopicPartitionCounts[topicId] / subs.Count;
            int cap = (int)Math.Ceiling(fairShare - 1e-9);
            foreach (var (topicId, partition) in previous.All())
            {
                if (owned[i].Count >= cap) break;
                if (!spec.TopicPartitionCounts.TryGetValue(topicId, out int count) || partition >= count) continue;
                if (!members[i].SubscribedTopicIds.Contains(topicId) || !taken.Add((topicId, partition))) continue;
                owned[i].Add((topicId, partition));
            }
        }

        // 2. Every unassigned partition goes to the least loaded subscriber.
        var topicOrder = new List<Guid>(subscribers.Keys);
        topicOrder.Sort();
        foreach (var topicId in topicOrder)
        {
            var eligible = subscribers[topicId];
            int count = spec.TopicPartitionCounts[topicId];
            for (int partition = 0; partition < count; partition++)
            {
                if (taken.Contains((topicId, partition))) continue;
                int best = eligible[0];
                foreach (int candidate in eligible)
                    if (owned[candidate].Count < owned[best].Count) best = candidate;
                owned[best].Add((topicId, partition));
                taken.Add((topicId, partition));
            }
        }

        // 3. Balance: move from the most loaded member to a less loaded eligible one.
        Balance(members, owned, subscribers);

        var result = new Dictionary<string, TopicPartitionSet>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++) result[members[i].MemberId] = TopicPartitionSet.From(owned[i]);
        return result;
    }

    private static void Balance(List<AssignmentMember> members, List<HashSet<(Guid, int)>> owned, Dictionary<Guid, List<int>> subscribers)
    {
        int n = members.Count;
        if (n < 2) return;
        var byLoad = new int[n];
        bool moved = true;
        int guard = 0;
        while (moved && guard++ < 1_000_000)
        {
            moved = false;
            for (int i = 0; i < n; i++) byLoad[i] = i;
            Array.Sort(byLoad, (a, b) => owned[b].Count != owned[a].Count ? owned[b].Count.CompareTo(owned[a].Count) : a.CompareTo(b));
            foreach (int donor in byLoad)
            {
                // Pick the least loaded eligible receiver for any of the donor's partitions.
                (Guid, int) bestPartition = default;
                int bestReceiver = -1;
                foreach (var tp in owned[donor])
                {
                    foreach (int receiver in subscribers[tp.Item1])
                    {
                        if (owned[receiver].Count + 1 >= owned[donor].Count) continue;
                        if (bestReceiver < 0 || owned[receiver].Count < owned[bestReceiver].Count)
                        {
                            bestReceiver = receiver;
                            bestPartition = tp;
                        }
                    }
                }
                if (bestReceiver < 0) continue;
                owned[donor].Remove(bestPartition);
                owned[bestReceiver].Add(bestPartition);
                moved = true;
                break;
            }
        }
    }
}
