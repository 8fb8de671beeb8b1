namespace Broker.Protocol.Tests.Messages;

/// <summary>Locates the repository root and Kafka's JSON specs from the test's output directory.</summary>
internal static class SpecPaths
{
    public static string RepositoryRoot
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "Broker.sln")))
                dir = Path.GetDirectoryName(dir);
            return dir ?? throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>KAFKA_PROTOCOL_SPECS, else the copy vendored in specs/kafka-protocol (CI clones have no ../shared).</summary>
    public static string SpecsRoot
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("KAFKA_PROTOCOL_SPECS");
            string path = env ?? Path.Combine(RepositoryRoot, "specs", "kafka-protocol");
            if (!Directory.Exists(path)) throw new DirectoryNotFoundException("Kafka JSON specs not found at " + path + " (set KAFKA_PROTOCOL_SPECS)");
            return path;
        }
    }

    public static string MessagesDir => Path.Combine(RepositoryRoot, "src", "Protocol", "Messages");
}
