using System.Globalization;

namespace Broker.Storage.Checkpoints;

/// <summary>
/// A per-log-dir offset checkpoint (<c>recovery-point-offset-checkpoint</c>,
/// <c>log-start-offset-checkpoint</c>, <c>replication-offset-checkpoint</c>): Kafka's
/// <c>OffsetCheckpointFile</c>, entries "topic partition offset".
/// </summary>
internal sealed class OffsetCheckpointFile(string path)
{
    public const string RecoveryPointFileName = "recovery-point-offset-checkpoint";
    public const string LogStartOffsetFileName = "log-start-offset-checkpoint";
    public const string ReplicationOffsetFileName = "replication-offset-checkpoint";
    public const string CleanerOffsetFileName = "cleaner-offset-checkpoint";

    public string Path { get; } = path;

    public void Write(IEnumerable<KeyValuePair<TopicPartition, long>> offsets)
    {
        var lines = new List<string>();
        foreach (KeyValuePair<TopicPartition, long> entry in offsets)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{entry.Key.Topic} {entry.Key.Partition} {entry.Value}"));
        }

        CheckpointFile.Write(Path, lines);
    }

    /// <summary>Entries of the file; empty when it does not exist.</summary>
    public Dictionary<TopicPartition, long> Read()
    {
        var result = new Dictionary<TopicPartition, long>();
        List<string[]>? lines = CheckpointFile.Read(Path, 3);
        if (lines is null)
        {
            return result;
        }

        foreach (string[] fields in lines)
        {
            result[new TopicPartition(fields[0], int.Parse(fields[1], CultureInfo.InvariantCulture))] = long.Parse(fields[2], CultureInfo.InvariantCulture);
        }

        return result;
    }
}
