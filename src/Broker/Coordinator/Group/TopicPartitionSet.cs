namespace Broker.Coordinator.Group;

/// <summary>
/// An immutable set of partitions keyed by topic id (KIP-848 assignments are by topic id).
/// Partition arrays are sorted and duplicate-free; empty topics are never stored, so two sets
/// with the same partitions are <see cref="SetEquals"/>.
/// </summary>
public sealed class TopicPartitionSet
{
    public static readonly TopicPartitionSet Empty = new(new Dictionary<Guid, int[]>());

    private readonly Dictionary<Guid, int[]> _topics;

    private TopicPartitionSet(Dictionary<Guid, int[]> topics)
    {
        _topics = topics;
        int count = 0;
        foreach (var partitions in topics.Values)
        {
            System.Diagnostics.Debug.Assert(partitions.Length > 0);
            count += partitions.Length;
        }
        Count = count;
    }

    public int Count { get; }
    public bool IsEmpty => Count == 0;
    public IReadOnlyDictionary<Guid, int[]> Topics => _topics;

    public static TopicPartitionSet From(IEnumerable<KeyValuePair<Guid, IEnumerable<int>>> topics)
    {
        var map = new Dictionary<Guid, int[]>();
        foreach (var (topicId, partitions) in topics)
        {
            var sorted = new SortedSet<int>(partitions);
            if (map.TryGetValue(topicId, out var existing)) sorted.UnionWith(existing);
            if (sorted.Count > 0) map[topicId] = sorted.ToArray();
        }
        return new TopicPartitionSet(map);
    }

    public static TopicPartitionSet From(IEnumerable<(Guid TopicId, int Partition)> partitions)
    {
        var map = new Dictionary<Guid, SortedSet<int>>();
        foreach (var (topicId, partition) in partitions)
        {
            if (!map.TryGetValue(topicId, out var set)) map[topicId] = set = new SortedSet<int>();
            set.Add(partition);
        }
        var result = new Dictionary<Guid, int[]>(map.Count);
        foreach (var (topicId, set) in map) result[topicId] = set.ToArray();
        return new TopicPartitionSet(result);
    }

    public IEnumerable<(Guid TopicId, int Partition)> All()
    {
        foreach (var (topicId, partitions) in _topics)
            foreach (int p in partitions)
                yield return (topicId, p);
    }

    public bool Contains(Guid topicId, int partition) =>
        _topics.TryGetValue(topicId, out var partitions) && Array.BinarySearch(partitions, partition) >= 0;

    public TopicPartitionSet Except(TopicPartitionSet other)
    {
        if (other.IsEmpty || IsEmpty) return this;
        return From(FilterAll(tp => !other.Contains(tp.TopicId, tp.Partition)));
    }

    public TopicPartitionSet Intersect(TopicPartitionSet other)
    {
        if (other.IsEmpty || IsEmpty) return Empty;
        return From(FilterAll(tp => other.Contains(tp.TopicId, tp.Partition)));
    }

    public TopicPartitionSet Union(TopicPartitionSet other)
    {
        if (other.IsEmpty) return this;
        if (IsEmpty) return other;
        return From(All().Concat(other.All()));
    }

    private IEnumerable<(Guid TopicId, int Partition)> FilterAll(Func<(Guid TopicId, int Partition), bool> keep)
    {
        foreach (var tp in All())
            if (keep(tp)) yield return tp;
    }

    public bool SetEquals(TopicPartitionSet other)
    {
        if (Count != other.Count || _topics.Count != other._topics.Count) return false;
        foreach (var (topicId, partitions) in _topics)
        {
            if (!other._topics.TryGetValue(topicId, out var theirs) || !partitions.AsSpan().SequenceEqual(theirs))
                return false;
        }
        return true;
    }

    public override string ToString() =>
        string.Join(", ", _topics.Select(t => $"{t.Key}:[{string.Join(',', t.Value)}]"));
}
