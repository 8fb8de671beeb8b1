using System.Globalization;

namespace Broker.LoadTool;

/// <summary>
/// Parses Kafka-tool style arguments: "--name value", "--name v1 v2 ..." (for
/// --producer-props k=v ...), and bare flags ("--print-metrics"). Anything that does not start
/// with "--" is a value of the preceding option, so "--throughput -1" works as in Kafka.
/// Every option read is remembered so that misspelt options are reported instead of ignored.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CommandLine(IReadOnlyList<string> args)
    {
        List<string>? current = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var name = arg.Substring(2);
                var eq = name.IndexOf('=');
                if (eq > 0)
                {
                    // --name=value form.
                    current = GetOrAdd(name.Substring(0, eq));
                    current.Add(name.Substring(eq + 1));
                    current = null;
                    continue;
                }
                current = GetOrAdd(name);
            }
            else if (current is not null)
            {
                current.Add(arg);
            }
            else
            {
                throw new UsageException($"unexpected argument '{arg}'");
            }
        }
    }

    private List<string> GetOrAdd(string name)
    {
        if (!_options.TryGetValue(name, out var list)) _options[name] = list = new List<string>();
        return list;
    }

    public bool Has(string name) { _read.Add(name); return _options.ContainsKey(name); }

    public bool Flag(string name) => Has(name);

    public string? String(string name)
    {
        _read.Add(name);
        if (!_options.TryGetValue(name, out var values)) return null;
        if (values.Count != 1) throw new UsageException($"--{name} takes exactly one value");
        return values[0];
    }

    public string Required(string name) =>
        String(name) ?? throw new UsageException($"missing required option --{name}");

    public IReadOnlyList<string> List(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var values) ? values : Array.Empty<string>();
    }

    public long Long(string name, long defaultValue)
    {
        var text = String(name);
        if (text is null) return defaultValue;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new UsageException($"--{name} expects an integer, got '{text}'");
        return value;
    }

    public int Int(string name, int defaultValue) => checked((int)Long(name, defaultValue));

    public double Double(string name, double defaultValue)
    {
        var text = String(name);
        if (text is null) return defaultValue;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw new UsageException($"--{name} expects a number, got '{text}'");
        return value;
    }

    /// <summary>Call after all options were read: rejects unknown ones.</summary>
    public void RejectUnknown()
    {
        foreach (var name in _options.Keys)
            if (!_read.Contains(name)) throw new UsageException($"unknown option --{name}");
    }

    /// <summary>Reads "k=v" pairs (from --producer-props) into a config map.</summary>
    public static void AddPairs(IReadOnlyList<string> pairs, IDictionary<string, string> into)
    {
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new UsageException($"expected key=value, got '{pair}'");
            into[pair.Substring(0, eq).Trim()] = pair.Substring(eq + 1).Trim();
        }
    }

    /// <summary>Reads a Java-style .properties file (key=value, # and ! comments).</summary>
    public static void AddPropertiesFile(string path, IDictionary<string, string> into)
    {
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || line[0] == '!') continue;
            var eq = line.IndexOfAny(['=', ':']);
            if (eq <= 0) throw new UsageException($"{path}: cannot parse '{line}'");
            into[line.Substring(0, eq).Trim()] = line.Substring(eq + 1).Trim();
        }
    }
}

internal sealed class UsageException(string message) : Exception(message);
