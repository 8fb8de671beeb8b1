namespace Broker.Hosting;

/// <summary>
/// The broker's command line, in the spirit of kafka-server-start.sh:
/// <c>[--config server.properties | server.properties] [--override key=value]...</c>.
/// </summary>
public sealed class CommandLine
{
    public string? ConfigPath { get; private set; }
    public List<KeyValuePair<string, string>> Overrides { get; } = new();

    /// <summary>Throws ArgumentException with a usage message on bad arguments.</summary>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var result = new CommandLine();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "--config" or "-c")
            {
                result.ConfigPath = i + 1 < args.Count ? args[++i] : throw Usage("--config needs a file");
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                result.ConfigPath = arg["--config=".Length..];
            }
            else if (arg == "--override")
            {
                result.Overrides.Add(ParseOverride(i + 1 < args.Count ? args[++i] : throw Usage("--override needs key=value")));
            }
            else if (arg.StartsWith("--override=", StringComparison.Ordinal))
            {
                result.Overrides.Add(ParseOverride(arg["--override=".Length..]));
            }
            else if (!arg.StartsWith('-') && result.ConfigPath is null)
            {
                // kafka-server-start.sh takes the properties file as its first positional argument.
                result.ConfigPath = arg;
            }
            else
            {
                throw Usage($"Unknown argument {arg}");
            }
        }

        return result;
    }

    private static KeyValuePair<string, string> ParseOverride(string s)
    {
        int eq = s.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw Usage($"--override expects key=value, got {s}");
        return new(s[..eq].Trim(), s[(eq + 1)..]);
    }

    private static ArgumentException Usage(string why) =>
        new($"{why}\nUsage: Broker [--config server.properties] [--override key=value]...");
}
