using System.Text;

namespace Broker.Storage.Checkpoints;

/// <summary>
/// <c>partition.metadata</c> in a partition directory (KIP-516): "version: 0\ntopic_id: &lt;id&gt;"
/// where the id is printed as Kafka's <c>Uuid.toString</c>: the 16 bytes (most significant long
/// first, big-endian) in URL-safe base64 without padding.
/// </summary>
internal static class PartitionMetadataFile
{
    public const string FileName = "partition.metadata";

    public static void Write(string directory, Guid topicId)
    {
        string text = "version: 0\ntopic_id: " + KafkaUuid.ToKafkaString(topicId) + "\n";
        CheckpointFile.WriteAtomically(Path.Combine(directory, FileName), Encoding.UTF8.GetBytes(text));
    }

    /// <summary>The topic id stored in the directory, or null when the file is absent.</summary>
    public static Guid? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (string line in File.ReadAllLines(path))
        {
            if (line.StartsWith("topic_id:", StringComparison.Ordinal))
            {
                return KafkaUuid.Parse(line.Substring("topic_id:".Length).Trim());
            }
        }

        throw new InvalidDataException($"{path} has no topic_id.");
    }
}

/// <summary>Kafka's textual form of a UUID (Uuid.toString / Uuid.fromString): URL-safe base64, no padding.</summary>
public static class KafkaUuid
{
    public static string ToKafkaString(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static Guid Parse(string text)
    {
        string base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        byte[] bytes = Convert.FromBase64String(base64);
        if (bytes.Length != 16)
        {
            throw new FormatException($"'{text}' is not a Kafka UUID.");
        }

        return new Guid(bytes, bigEndian: true);
    }
}
