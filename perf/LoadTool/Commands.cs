namespace Broker.LoadTool;

/// <summary>
/// Subcommands: argument handling only; the work is in ProducerRun, ConsumerRun,
/// EndToEndRun and Compare. Option names follow kafka-producer-perf-test and
/// kafka-consumer-perf-test so that commands written for Kafka's tools carry over.
/// </summary>
internal static class Commands
{
    public const string Usage = """
        usage: Broker.LoadTool <command> [options]
          producer-perf  --topic T --num-records N (--record-size B | --payload-file F [--payload-delimiter D])
                         --throughput R (records/s, -1 unthrottled) [--producer-props k=v ...] [--producer.config FILE]
                         [--print-metrics] [--create-topic-partitions P] [--mock P (in-process mock cluster, P partitions)]
          consumer-perf  --topic T --messages N --bootstrap-server HOST:PORT [--fetch-size B] [--group G]
                         [--timeout MS] [--consumer.config FILE] [--consumer-props k=v ...] [--hide-header] [--print-metrics]
                         [--assign (assign all partitions, no group)]
          end-to-end     --topic T --bootstrap-server HOST:PORT [--rate-mb 50] [--record-size 1024] [--duration-sec 10]
                         [--warmup-sec 1] [--producer-props k=v ...] [--consumer-props k=v ...]
                         [--create-topic-partitions P] [--mock P]
          compare        [--bootstrap-server HOST:PORT --broker-pid PID] [--skip-mock] [--mode throughput|e2e]
                         --num-records N --record-size B [--throughput R] [--partitions P] [--consume [--assign]]
                         [--rate-mb 50 --duration-sec 10] [--producer-props k=v ...] [--consumer-props k=v ...]
                         [--label TEXT] [--markdown-file FILE]
          mock-cluster   [--brokers 1] [--topic T ...] [--partitions 1]   run a mock cluster until SIGTERM/Ctrl+C
          markdown-header throughput|e2e
          selftest       checks the histogram, rings, argument parsing and a round trip against the mock
        """;

    public static void ProducerPerf(CommandLine line)
    {
        var topic = line.Required("topic");
        var numRecords = line.Long("num-records", -1);
        if (numRecords <= 0) throw new UsageException("--num-records is required and must be positive");
        var recordSize = line.Int("record-size", 0);
        var payloadFile = line.String("payload-file");
        var delimiter = line.String("payload-delimiter") ?? "\n";
        if ((recordSize > 0) == (payloadFile is not null))
            throw new UsageException("give exactly one of --record-size and --payload-file");
        var throughput = line.Double("throughput", double.NaN);
        if (double.IsNaN(throughput)) throw new UsageException("--throughput is required (-1 for unthrottled)");
        var config = ProducerConfig(line);
        var printMetrics = line.Flag("print-metrics");
        var createPartitions = line.Int("create-topic-partitions", 0);
        var mockPartitions = line.Int("mock", 0);
        line.RejectUnknown();

        using var mock = mockPartitions > 0 ? new MockCluster(1) : null;
        if (mock is not null)
        {
            mock.CreateTopic(topic, mockPartitions);
            config["bootstrap.servers"] = mock.BootstrapServers;
        }
        if (!config.ContainsKey("bootstrap.servers"))
            throw new UsageException("bootstrap.servers must be given in --producer-props or --producer.config (or use --mock)");
        if (createPartitions > 0) Topics.Create(config["bootstrap.servers"], topic, createPartitions, TimeSpan.FromSeconds(30));

        new ProducerRun(new ProducerOptions
        {
            Topic = topic,
            NumRecords = numRecords,
            RecordSize = recordSize,
            Throughput = throughput,
            Config = config,
            Payloads = payloadFile is null ? null : ProducerRun.ReadPayloadFile(payloadFile, delimiter),
            PrintMetrics = printMetrics,
        }).Run();
    }

    public static void ConsumerPerf(CommandLine line)
    {
        var options = new ConsumerOptions
        {
            Topic = line.Required("topic"),
            Messages = line.Long("messages", long.MaxValue),
            FetchSize = line.Int("fetch-size", 1024 * 1024),
            Group = line.String("group") ?? "perf-consumer-" + Random.Shared.Next(100000),
            TimeoutMs = line.Int("timeout", 10_000),
            Config = ConsumerConfig(line),
            HideHeader = line.Flag("hide-header"),
            PrintMetrics = line.Flag("print-metrics"),
            Assign = line.Flag("assign"),
        };
        options.Config["bootstrap.servers"] = line.Required("bootstrap-server");
        line.RejectUnknown();
        ConsumerRun.Run(options);
    }

    public static void EndToEnd(CommandLine line)
    {
        var topic = line.Required("topic");
        var bootstrap = line.String("bootstrap-server");
        var rate = line.Double("rate-mb", 50);
        var recordSize = line.Int("record-size", 1024);
        var duration = line.Double("duration-sec", 10);
        var warmup = line.Double("warmup-sec", 1);
        var producerConfig = ProducerConfig(line);
        var consumerConfig = ConsumerConfig(line);
        var createPartitions = line.Int("create-topic-partitions", 0);
        var mockPartitions = line.Int("mock", 0);
        line.RejectUnknown();

        using var mock = mockPartitions > 0 ? new MockCluster(1) : null;
        if (mock is not null)
        {
            mock.CreateTopic(topic, mockPartitions);
            bootstrap = mock.BootstrapServers;
        }
        if (bootstrap is null) throw new UsageException("--bootstrap-server is required (or use --mock)");
        if (createPartitions > 0) Topics.Create(bootstrap, topic, createPartitions, TimeSpan.FromSeconds(30));
        EndToEndRun.Run(new EndToEndOptions
        {
            BootstrapServers = bootstrap,
            Topic = topic,
            RateMegabytesPerSecond = rate,
            RecordSize = recordSize,
            DurationSeconds = duration,
            WarmupSeconds = warmup,
            ProducerConfig = producerConfig,
            ConsumerConfig = consumerConfig,
        });
    }

    public static void Compare(CommandLine line)
    {
        var pid = line.Long("broker-pid", -1);
        var options = new CompareOptions
        {
            BootstrapServers = line.String("bootstrap-server"),
            BrokerPid = pid > 0 ? (int)pid : null,
            SkipMock = line.Flag("skip-mock"),
            Mode = line.String("mode") ?? "throughput",
            Label = line.String("label") ?? "",
            TopicPrefix = line.String("topic-prefix") ?? "loadtool",
            Partitions = line.Int("partitions", 1),
            NumRecords = line.Long("num-records", 500_000),
            RecordSize = line.Int("record-size", 1024),
            Throughput = line.Double("throughput", -1),
            Consume = line.Flag("consume"),
            ConsumerAssign = line.Flag("assign"),
            E2eRateMegabytesPerSecond = line.Double("rate-mb", 50),
            E2eDurationSeconds = line.Double("duration-sec", 10),
            ProducerConfig = ProducerConfig(line),
            ConsumerConfig = ConsumerConfig(line),
            MarkdownFile = line.String("markdown-file"),
        };
        line.RejectUnknown();
        if (options.Mode is not ("throughput" or "e2e")) throw new UsageException("--mode is throughput or e2e");
        if (options.SkipMock && options.BootstrapServers is null) throw new UsageException("nothing to run");
        LoadTool.Compare.Run(options);
    }

    /// <summary>Runs a mock cluster until SIGINT/SIGTERM, for trying the other commands (or any
    /// client) against the reference broker from another process.</summary>
    public static void MockClusterCommand(CommandLine line)
    {
        var brokers = line.Int("brokers", 1);
        var topics = line.List("topic");
        var partitions = line.Int("partitions", 1);
        line.RejectUnknown();
        using var mock = new MockCluster(brokers);
        foreach (var topic in topics) mock.CreateTopic(topic, partitions);
        Console.WriteLine("bootstrap.servers=" + mock.BootstrapServers);
        using var stop = new ManualResetEventSlim();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Set(); };
        stop.Wait();
    }

    private static Dictionary<string, string> ProducerConfig(CommandLine line)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        if (line.String("producer.config") is { } file) CommandLine.AddPropertiesFile(file, config);
        CommandLine.AddPairs(line.List("producer-props"), config); // Kafka: props override the file
        return config;
    }

    private static Dictionary<string, string> ConsumerConfig(CommandLine line)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        if (line.String("consumer.config") is { } file) CommandLine.AddPropertiesFile(file, config);
        CommandLine.AddPairs(line.List("consumer-props"), config);
        return config;
    }
}
