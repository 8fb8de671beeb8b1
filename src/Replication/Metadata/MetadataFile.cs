using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Replication.Metadata;

/// <summary>
/// On-disk form of the metadata store: <c>&lt;first log dir&gt;/topic-metadata.json</c>, rewritten
/// whole (temp + fsync + rename) on every change. This is our single-node stand-in for KRaft's
/// replicated <c>__cluster_metadata</c> log: the file holds the state a replay of that log would
/// produce (topics with ids, partition counts and config overrides, and the producer id block
/// high-water mark), so a restart reloads it instead of replaying records.
/// </summary>
internal sealed class MetadataFile
{
    public const string FileName = "topic-metadata.json";
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    [JsonPropertyName("version")]
    public int Version { get; set; } = CurrentVersion;

    /// <summary>First producer id not yet handed out in a block (ids below it are never reused).</summary>
    [JsonPropertyName("nextProducerIdBlockStart")]
    public long NextProducerIdBlockStart { get; set; }

    [JsonPropertyName("topics")]
    public List<TopicEntry> Topics { get; set; } = new();

    public static MetadataFile? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] bytes = File.ReadAllBytes(path);
        MetadataFile? file = JsonSerializer.Deserialize<MetadataFile>(bytes, Options);
        if (file is null || file.Version > CurrentVersion)
        {
            throw new InvalidDataException($"{path}: unsupported metadata file (version {file?.Version}).");
        }

        return file;
    }

    public void Write(string path) => AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, Options));

    internal sealed class TopicEntry
    {
        [JsonPropertyName("name")]
        public string Name { get; set; } = "";

        [JsonPropertyName("topicId")]
        public Guid TopicId { get; set; }

        [JsonPropertyName("partitions")]
        public int Partitions { get; set; }

        [JsonPropertyName("replicationFactor")]
        public short ReplicationFactor { get; set; }

        [JsonPropertyName("internal")]
        public bool Internal { get; set; }

        [JsonPropertyName("configs")]
        public Dictionary<string, string> Configs { get; set; } = new(StringComparer.Ordinal);
    }
}
