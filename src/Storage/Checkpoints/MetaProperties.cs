using System.Globalization;
using System.Text;

namespace Broker.Storage.Checkpoints;

/// <summary>
/// <c>meta.properties</c> at the root of each log dir (KRaft, KIP-631/KIP-858): a Java properties
/// file with version=1, node.id, cluster.id and directory.id. A dir whose file names another
/// cluster or node must not be used (Kafka refuses to start), which the owner checks.
/// </summary>
public sealed record MetaProperties(int NodeId, string ClusterId, Guid DirectoryId)
{
    public const string FileName = "meta.properties";

    public void Write(string logDir)
    {
        var text = new StringBuilder();
        text.Append("#\n#").Append(DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        text.Append("cluster.id=").Append(ClusterId).Append('\n');
        text.Append("directory.id=").Append(KafkaUuid.ToKafkaString(DirectoryId)).Append('\n');
        text.Append("node.id=").Append(NodeId.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("version=1\n");
        CheckpointFile.WriteAtomically(Path.Combine(logDir, FileName), Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The dir's properties, or null when the file does not exist.</summary>
    public static MetaProperties? Read(string logDir)
    {
        string path = Path.Combine(logDir, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || line[0] == '!')
            {
                continue;
            }

            int eq = line.IndexOf('=');
            if (eq > 0)
            {
                values[line.Substring(0, eq).Trim()] = line.Substring(eq + 1).Trim();
            }
        }

        if (!values.TryGetValue("version", out string? version) || version != "1")
        {
            throw new InvalidDataException($"{path}: only version=1 (KRaft) is supported.");
        }

        int nodeId = int.Parse(values.GetValueOrDefault("node.id", "-1"), CultureInfo.InvariantCulture);
        string clusterId = values.GetValueOrDefault("cluster.id", string.Empty);
        Guid directoryId = values.TryGetValue("directory.id", out string? dir) ? KafkaUuid.Parse(dir) : Guid.Empty;
        return new MetaProperties(nodeId, clusterId, directoryId);
    }
}
