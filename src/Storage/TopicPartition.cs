namespace Broker.Storage;

/// <summary>
/// A partition of a topic (Kafka <c>TopicPartition</c>). Its directory under a log dir is
/// <c>&lt;topic&gt;-&lt;partition&gt;</c>; topic names may contain '-', so the partition is the
/// text after the last '-'.
/// </summary>
public readonly record struct TopicPartition(string Topic, int Partition)
{
    /// <summary>Kafka's directory name for this partition.</summary>
    public string DirectoryName => Topic + "-" + Partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString() => DirectoryName;

    /// <summary>Parses a directory name such as <c>orders-3</c> (without any <c>.uuid-delete</c> suffix).</summary>
    public static bool TryParseDirectoryName(string name, out TopicPartition topicPartition)
    {
        topicPartition = default;
        int dash = name.LastIndexOf('-');
        if (dash <= 0 || dash == name.Length - 1)
        {
            return false;
        }

        if (!int.TryParse(name.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int partition))
        {
            return false;
        }

        topicPartition = new TopicPartition(name.Substring(0, dash), partition);
        return true;
    }
}
