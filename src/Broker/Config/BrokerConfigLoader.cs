using System.Collections;
using System.Globalization;
using System.Text;

namespace Broker.Config;

/// <summary>
/// Builds the raw property map from, in increasing precedence: a server.properties file
/// (<c>--config</c>), KAFKA_* environment variables (mapped as the Apache Kafka container image
/// does), and <c>--override key=value</c> arguments. Last wins.
/// </summary>
public static class BrokerConfigLoader
{
    public static Dictionary<string, string> Load(string? propertiesPath, IDictionary environment, IReadOnlyList<KeyValuePair<string, string>> overrides)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (propertiesPath is not null)
        {
            string text;
            try
            {
                text = File.ReadAllText(propertiesPath, Encoding.UTF8);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException("--config", $"Cannot read {propertiesPath}: {e.Message}");
            }

            foreach (KeyValuePair<string, string> entry in ParseProperties(text)) values[entry.Key] = entry.Value;
        }

        foreach (KeyValuePair<string, string> entry in FromEnvironment(environment)) values[entry.Key] = entry.Value;
        foreach (KeyValuePair<string, string> entry in overrides) values[entry.Key] = entry.Value;
        return values;
    }

    /// <summary>
    /// The Apache Kafka image's mapping (KafkaDockerWrapper.getServerConfigsFromEnv, documented in
    /// docker/examples/README.md): only KAFKA_-prefixed variables; strip the prefix, lowercase,
    /// '___' -> '-', '__' -> '_', '_' -> '.'. Variables the image and kafka-run-class.sh use for
    /// other purposes (KAFKA_HEAP_OPTS, KAFKA_OPTS, KAFKA_JMX_*, KAFKA_LOG4J_*, ...) are skipped.
    /// CLUSTER_ID, which the image uses to format the storage, becomes cluster.id unless
    /// KAFKA_CLUSTER_ID is set. Differs from the image only where the image is accidental: it
    /// removes every "KAFKA_" in the name, not just the prefix.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> FromEnvironment(IDictionary environment)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (environment["CLUSTER_ID"] is string clusterId && !environment.Contains("KAFKA_CLUSTER_ID"))
        {
            result.Add(new("cluster.id", clusterId));
        }

        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string name || entry.Value is not string value) continue;
            if (!name.StartsWith("KAFKA_", StringComparison.Ordinal) || IsImageVariable(name)) continue;
            string? key = EnvironmentNameToKey(name);
            if (key is not null) result.Add(new(key, value));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    public static string? EnvironmentNameToKey(string name)
    {
        if (!name.StartsWith("KAFKA_", StringComparison.Ordinal) || name.Length == "KAFKA_".Length) return null;
        string rest = name.Substring("KAFKA_".Length);
        var sb = new StringBuilder(rest.Length);
        int i = 0;
        while (i < rest.Length)
        {
            if (rest[i] != '_')
            {
                sb.Append(char.ToLowerInvariant(rest[i]));
                i++;
                continue;
            }

            int run = 0;
            while (i + run < rest.Length && rest[i + run] == '_') run++;
            // Longest match first, as the image's sed chain does (___ then __ then _).
            while (run > 0)
            {
                if (run >= 3) { sb.Append('-'); run -= 3; i += 3; }
                else if (run == 2) { sb.Append('_'); run -= 2; i += 2; }
                else { sb.Append('.'); run -= 1; i += 1; }
            }
        }

        return sb.ToString();
    }

    private static bool IsImageVariable(string name) =>
        name is "KAFKA_HEAP_OPTS" or "KAFKA_HEAP_OPT" or "KAFKA_OPTS" or "KAFKA_JVM_PERFORMANCE_OPTS" or "KAFKA_GC_LOG_OPTS" or "KAFKA_DEBUG"
            or "KAFKA_VERSION" or "KAFKA_HOME" or "KAFKA_TOOLS_LOG4J_LOGLEVEL"
        || name.StartsWith("KAFKA_JMX_", StringComparison.Ordinal)
        || name.StartsWith("KAFKA_LOG4J_", StringComparison.Ordinal);

    /// <summary>
    /// Java's Properties.load format: '#' or '!' comments, key and value separated by '=', ':' or
    /// whitespace, a trailing backslash continues the line, and backslash escapes (\t \n \r \f
    /// \uXXXX, any other char stands for itself).
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> ParseProperties(string text)
    {
        var result = new List<KeyValuePair<string, string>>();
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].TrimStart(' ', '\t', '\f');
            if (line.Length == 0 || line[0] == '#' || line[0] == '!') continue;
            var logical = new StringBuilder();
            while (EndsWithContinuation(line) && n + 1 < lines.Length)
            {
                logical.Append(line, 0, line.Length - 1);
                line = lines[++n].TrimStart(' ', '\t', '\f');
            }

            logical.Append(EndsWithContinuation(line) ? line[..^1] : line);
            SplitKeyValue(logical.ToString(), out string key, out string value);
            result.Add(new(key, value));
        }

        return result;
    }

    private static bool EndsWithContinuation(string line)
    {
        int slashes = 0;
        for (int i = line.Length - 1; i >= 0 && line[i] == '\\'; i--) slashes++;
        return slashes % 2 == 1;
    }

    private static void SplitKeyValue(string line, out string key, out string value)
    {
        int i = 0;
        var k = new StringBuilder();
        while (i < line.Length)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length)
            {
                i = Unescape(line, i, k);
                continue;
            }

            if (c is '=' or ':' or ' ' or '\t' or '\f') break;
            k.Append(c);
            i++;
        }

        while (i < line.Length && line[i] is ' ' or '\t' or '\f') i++;
        if (i < line.Length && line[i] is '=' or ':') i++;
        while (i < line.Length && line[i] is ' ' or '\t' or '\f') i++;
        var v = new StringBuilder();
        while (i < line.Length)
        {
            if (line[i] == '\\' && i + 1 < line.Length)
            {
                i = Unescape(line, i, v);
                continue;
            }

            v.Append(line[i]);
            i++;
        }

        key = k.ToString();
        value = v.ToString();
    }

    private static int Unescape(string line, int i, StringBuilder sb)
    {
        char e = line[i + 1];
        switch (e)
        {
            case 't': sb.Append('\t'); return i + 2;
            case 'n': sb.Append('\n'); return i + 2;
            case 'r': sb.Append('\r'); return i + 2;
            case 'f': sb.Append('\f'); return i + 2;
            case 'u':
                // java.util.Properties refuses a bad escape ("Malformed \uxxxx encoding"), so Kafka does not start.
                if (i + 6 > line.Length || !int.TryParse(line.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                {
                    throw new ConfigException("--config", $"Malformed \\uxxxx encoding in properties line: {line}");
                }

                sb.Append((char)code);
                return i + 6;
            default:
                sb.Append(e);
                return i + 2;
        }
    }
}
