using System.Runtime.CompilerServices;

namespace Broker.Integration.Tests.Clients;

/// <summary>
/// Where the non-.NET clients live. They are found by absolute path (CI installs them with
/// .ci/install-clients.sh); a missing tool fails the test with the command that installs it,
/// rather than skipping, so a CI image without them cannot pass silently.
/// </summary>
public static class ClientTools
{
    public const string Kcat = "/usr/bin/kcat";

    // Debian's python3-kafka is only visible to the system interpreter; a pyenv python3 on
    // PATH would not import it.
    public const string Python = "/usr/bin/python3";

    public const string Node = "/usr/bin/node";

    private const string InstallHint = "install the test clients with: sudo .ci/install-clients.sh";

    /// <summary>tests/Integration.Tests/Clients in the source tree (the scripts are not copied to bin/).</summary>
    public static string ClientsDirectory { get; } = SourceDirectory();

    public static string PythonScriptsDirectory => Path.Combine(ClientsDirectory, "python");

    public static string NodeScriptsDirectory => Path.Combine(ClientsDirectory, "node");

    public static void RequireKcat() => RequireFile(Kcat, "kcat");

    public static void RequireKafkaPython()
    {
        RequireFile(Python, "python3");
        RequireFile("/usr/lib/python3/dist-packages/kafka/__init__.py", "kafka-python (apt package python3-kafka)");
        RequireFile(Path.Combine(PythonScriptsDirectory, "produce.py"), "the kafka-python test scripts");
    }

    public static void RequireKafkaJs()
    {
        RequireFile(Node, "node");
        RequireFile(Path.Combine(NodeScriptsDirectory, "node_modules", "kafkajs", "package.json"), "kafkajs (npm ci in tests/Integration.Tests/Clients/node)");
    }

    private static void RequireFile(string path, string what)
    {
        if (!File.Exists(path))
            Assert.Fail($"{what} not found at {path}; {InstallHint}");
    }

    private static string SourceDirectory([CallerFilePath] string thisFile = "") =>
        Path.GetDirectoryName(thisFile) ?? throw new InvalidOperationException("no caller file path");
}
