using System.Collections;
using Broker.Config;
using Broker.Hosting;

namespace Broker.Tests.Config;

/// <summary>
/// Where configuration comes from: server.properties &lt; KAFKA_* environment (the Apache Kafka
/// image's mapping) &lt; --override; invalid values stop startup naming the key.
/// </summary>
public sealed class ConfigSourcesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "config-test-" + Guid.NewGuid().ToString("N"));

    public ConfigSourcesTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("KAFKA_LOG_DIRS", "log.dirs")]
    [InlineData("KAFKA_NODE_ID", "node.id")]
    [InlineData("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "listener.security.protocol.map")]
    [InlineData("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "offsets.topic.replication.factor")]
    [InlineData("KAFKA_ABC__DEF", "abc_def")]        // __ -> _
    [InlineData("KAFKA_ABC___DEF", "abc-def")]       // ___ -> -
    [InlineData("KAFKA_A____B", "a-.b")]             // longest first, left to right, as the image's replace chain
    [InlineData("KAFKA_A_____B", "a-_b")]
    [InlineData("KAFKA_LISTENER_NAME_SASL__SSL_PLAIN_SASL___JAAS___CONFIG", "listener.name.sasl_ssl.plain.sasl-jaas-config")]
    public void EnvironmentNamesMapAsTheKafkaImageDoes(string variable, string key)
    {
        Assert.Equal(key, BrokerConfigLoader.EnvironmentNameToKey(variable));
    }

    [Fact]
    public void OnlyKafkaPrefixedVariablesAreRead_AndTheImagesOwnAreSkipped()
    {
        var env = new Hashtable
        {
            ["KAFKA_NUM_PARTITIONS"] = "4",
            ["PATH"] = "/usr/bin",
            ["kafka_lowercase"] = "x",
            ["KAFKA_HEAP_OPTS"] = "-Xmx1G",
            ["KAFKA_OPTS"] = "-Dx=y",
            ["KAFKA_JMX_PORT"] = "9999",
            ["KAFKA_LOG4J_ROOT_LOGLEVEL"] = "INFO",
            ["KAFKA_TOOLS_LOG4J_LOGLEVEL"] = "INFO",
            ["KAFKA_VERSION"] = "4.0.0",
        };

        Dictionary<string, string> raw = BrokerConfigLoader.Load(null, env, []);

        Assert.Equal(new Dictionary<string, string> { ["num.partitions"] = "4" }, raw);
    }

    [Fact]
    public void ClusterIdVariableOfTheImageBecomesClusterId_UnlessKafkaClusterIdIsSet()
    {
        Assert.Equal("abc", BrokerConfigLoader.Load(null, new Hashtable { ["CLUSTER_ID"] = "abc" }, [])["cluster.id"]);
        Assert.Equal("xyz", BrokerConfigLoader.Load(null, new Hashtable { ["CLUSTER_ID"] = "abc", ["KAFKA_CLUSTER_ID"] = "xyz" }, [])["cluster.id"]);
    }

    [Fact]
    public void PrecedenceIsFileThenEnvironmentThenOverride()
    {
        string path = Write("num.partitions=2\nlog.retention.hours=10\nmessage.max.bytes=1000\n");
        var env = new Hashtable { ["KAFKA_LOG_RETENTION_HOURS"] = "20", ["KAFKA_MESSAGE_MAX_BYTES"] = "2000" };
        var overrides = new List<KeyValuePair<string, string>> { new("message.max.bytes", "3000") };

        var config = new BrokerConfig(BrokerConfigLoader.Load(path, env, overrides));

        Assert.Equal(2, config.GetInt("num.partitions"));        // file only
        Assert.Equal(20, config.GetInt("log.retention.hours"));  // env beats file
        Assert.Equal(3000, config.GetInt("message.max.bytes"));  // override beats env and file
        Assert.Equal(1, config.GetInt("default.replication.factor")); // nobody: Kafka's default
    }

    [Fact]
    public void CommandLineTakesConfigAndOverridesLikeKafkaServerStart()
    {
        string path = Write("num.partitions=2\n");
        CommandLine a = CommandLine.Parse([path, "--override", "num.partitions=5", "--override=log.dirs=/x,/y"]);
        CommandLine b = CommandLine.Parse(["--config", path]);

        Assert.Equal(path, a.ConfigPath);
        Assert.Equal([new("num.partitions", "5"), new("log.dirs", "/x,/y")], a.Overrides);
        Assert.Equal(path, b.ConfigPath);
        Assert.Throws<ArgumentException>(() => CommandLine.Parse(["--override", "novalue"]));
        Assert.Throws<ArgumentException>(() => CommandLine.Parse(["--bogus"]));
    }

    [Fact]
    public void UnknownKeysAreKeptAndReported()
    {
        var config = new BrokerConfig(new Dictionary<string, string> { ["no.such.key"] = "1", ["num.partitions"] = "3" });
        Assert.Equal(["no.such.key"], config.UnknownKeys);
        Assert.Equal("1", config.GetString("no.such.key"));
    }

    [Fact]
    public async Task UnknownKeysAreWarnedAboutAtStartup()
    {
        var config = new BrokerConfig(new Dictionary<string, string> { ["no.such.key"] = "1", ["log.dirs"] = _dir });
        var logger = new Network.CapturingLogger();
        var startup = new StartupLogger(config, new TypedLogger<StartupLogger>(logger));

        await startup.StartAsync(CancellationToken.None);

        Assert.Contains(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("'no.such.key'") && e.Message.Contains("isn't a known config"));
    }

    [Theory]
    [InlineData("--override", "socket.request.max.bytes=lots", "socket.request.max.bytes")]
    [InlineData("--override", "auto.create.topics.enable=maybe", "auto.create.topics.enable")]
    [InlineData("--override", "num.partitions=0", "num.partitions")]
    [InlineData("--override", "compression.type=brotli", "compression.type")]
    [InlineData("--override", "node.id=1\nbroker.id=2", "broker.id")]
    public async Task InvalidValueStopsStartupNamingTheKey(string flag, string overrides, string key)
    {
        var args = new List<string>();
        foreach (string o in overrides.Split('\n'))
        {
            args.Add(flag);
            args.Add(o);
        }

        var error = new StringWriter();
        BrokerConfig? config = await BrokerHost.LoadConfigAsync(args.ToArray(), new Hashtable(), error);

        Assert.Null(config);
        Assert.Contains(key, error.ToString());
        Assert.StartsWith("Broker not started:", error.ToString());
    }

    [Fact]
    public async Task InvalidValueFromTheEnvironmentOrTheFileStopsStartupToo()
    {
        var fromEnv = new StringWriter();
        Assert.Null(await BrokerHost.LoadConfigAsync([], new Hashtable { ["KAFKA_CONNECTIONS_MAX_IDLE_MS"] = "soon" }, fromEnv));
        Assert.Contains("connections.max.idle.ms", fromEnv.ToString());

        var fromFile = new StringWriter();
        Assert.Null(await BrokerHost.LoadConfigAsync(["--config", Write("log.segment.bytes=12\n")], new Hashtable(), fromFile));
        Assert.Contains("log.segment.bytes", fromFile.ToString());

        var missing = new StringWriter();
        Assert.Null(await BrokerHost.LoadConfigAsync(["--config", Path.Combine(_dir, "missing.properties")], new Hashtable(), missing));
        Assert.Contains("missing.properties", missing.ToString());
    }

    [Fact]
    public async Task ProcessExitsWithCode2OnAnInvalidValue()
    {
        // The entry point itself, with a value no environment variable of this test run can mask.
        Assert.Equal(2, await BrokerHost.RunAsync(["--override", "socket.request.max.bytes=-5"]));
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".properties");
        File.WriteAllText(path, text);
        return path;
    }

    private sealed class TypedLogger<T>(Microsoft.Extensions.Logging.ILogger inner) : Microsoft.Extensions.Logging.ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
