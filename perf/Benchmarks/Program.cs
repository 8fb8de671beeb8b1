using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project perf/Benchmarks -- --filter '*'
// End-to-end offset commits with a real client: -- offset-commit-e2e (see OffsetCommitThroughput).
if (args.Length > 0 && args[0] == "offset-commit-e2e") return await Broker.Benchmarks.OffsetCommitThroughput.RunAsync(args);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
