using Broker.LoadTool;

// Entry point: Kafka's perf tools as subcommands (see docs/performance-loadtool.md).
try
{
    if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
    {
        Console.WriteLine(Commands.Usage);
        return 0;
    }
    if (args[0] == "markdown-header")
    {
        // Table headers for run.sh, kept next to the code that writes the rows.
        Console.Write(args.Length > 1 && args[1] == "e2e" ? Compare.E2eHeader : Compare.ThroughputHeader);
        return 0;
    }
    if (args[0] == "selftest") return SelfTest.Run();
    var line = new CommandLine(args[1..]);
    switch (args[0])
    {
        case "producer-perf": Commands.ProducerPerf(line); break;
        case "consumer-perf": Commands.ConsumerPerf(line); break;
        case "end-to-end": Commands.EndToEnd(line); break;
        case "compare": Commands.Compare(line); break;
        case "mock-cluster": Commands.MockClusterCommand(line); break;
        default: throw new UsageException($"unknown command '{args[0]}'");
    }
    return 0;
}
catch (UsageException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine(Commands.Usage);
    return 2;
}
