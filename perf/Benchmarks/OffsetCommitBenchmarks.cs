using BenchmarkDotNet.Attributes;
using Broker.Coordinator.Group;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Benchmarks;

/// <summary>
/// The group coordinator's share of an OffsetCommit: validation on the shard's executor, the
/// __consumer_offsets record batch (encoded exactly as the replicated log gets it, then dropped),
/// and replay into the offsets map. No network, no disk: the end-to-end number with a real
/// client is <see cref="OffsetCommitThroughput"/> (docs/performance-groups.md).
/// </summary>
[MemoryDiagnoser]
public class OffsetCommitBenchmarks
{
    private const int Concurrent = 64;
    private GroupCoordinator _coordinator = null!;
    private OffsetCommitParams _onePartition = null!;
    private OffsetCommitParams _hundredPartitions = null!;
    private OffsetCommitParams[] _concurrent = null!;
    private readonly Task[] _tasks = new Task[Concurrent];

    private static OffsetCommitParams Commit(string groupId, int partitions)
    {
        var list = new OffsetCommitPartition[partitions];
        for (int i = 0; i < partitions; i++) list[i] = new OffsetCommitPartition("orders", i, 1000 + i, 5, null);
        // A simple consumer's commit (generation -1), as Confluent.Kafka sends without a subscription.
        return new OffsetCommitParams(groupId, -1, "", null, -1, 9, list);
    }

    [GlobalSetup]
    public void Setup()
    {
        var config = new GroupCoordinatorConfig { OffsetsTopicNumPartitions = 1 };
        _coordinator = new GroupCoordinator(config, new EncodeOnlyCoordinatorLog(), new FixedTopicMetadata(), TimeProvider.System, NullLoggerFactory.Instance);
        _coordinator.OnElectionAsync(0).GetAwaiter().GetResult();
        _onePartition = Commit("bench-one", 1);
        _hundredPartitions = Commit("bench-hundred", 100);
        _concurrent = new OffsetCommitParams[Concurrent];
        for (int i = 0; i < Concurrent; i++) _concurrent[i] = Commit("bench-concurrent-" + i, 1);
    }

    [GlobalCleanup]
    public void Cleanup() => _coordinator.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public int CommitOnePartition() => _coordinator.CommitOffsetsAsync(_onePartition).GetAwaiter().GetResult().Count;

    [Benchmark]
    public int CommitHundredPartitions() => _coordinator.CommitOffsetsAsync(_hundredPartitions).GetAwaiter().GetResult().Count;

    /// <summary>64 groups committing at once on one shard: what the executor's queue adds.</summary>
    [Benchmark(OperationsPerInvoke = Concurrent)]
    public void CommitOnePartitionSixtyFourAtOnce()
    {
        for (int i = 0; i < Concurrent; i++) _tasks[i] = _coordinator.CommitOffsetsAsync(_concurrent[i]);
        Task.WaitAll(_tasks);
    }
}
