namespace Broker.Coordinator.Group;

/// <summary>
/// Maps a group id to its __consumer_offsets partition exactly as Kafka does
/// (<c>Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions</c>), so that a cluster
/// mixing our brokers with tools that compute the partition themselves agrees on the owner.
/// </summary>
public static class GroupPartitioner
{
    public const string ConsumerOffsetsTopic = "__consumer_offsets";

    /// <summary>Java's <c>String.hashCode</c>: s[0]*31^(n-1) + ... over UTF-16 code units, wrapping.</summary>
    public static int JavaHashCode(string value)
    {
        int hash = 0;
        foreach (char c in value)
            hash = unchecked(31 * hash + c);
        return hash;
    }

    /// <summary>Kafka's <c>Utils.abs</c>: clears the sign bit (so int.MinValue maps to 0, not an overflow).</summary>
    public static int KafkaAbs(int value) => value & 0x7fffffff;

    public static int PartitionFor(string groupId, int numPartitions)
    {
        if (numPartitions <= 0) throw new ArgumentOutOfRangeException(nameof(numPartitions));
        return KafkaAbs(JavaHashCode(groupId)) % numPartitions;
    }
}
