using BenchmarkDotNet.Attributes;
using Broker.Coordinator.Group;
using Broker.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Benchmarks;

/// <summary>
/// The brief's size through the whole KIP-848 coordinator path (not just the assignor): 100
/// members join one group over 10 topics of 100 partitions, then everyone heartbeats, reporting
/// what it owns and adopting what it is given, until the group is stable (2 rounds). Each
/// heartbeat validates, writes its records (encoded, not stored), replays and reconciles;
/// every join recomputes the target assignment, as Kafka does when the group epoch moves.
/// The same flow is a unit test (ConsumerGroupScaleTests) that checks the outcome.
/// </summary>
[MemoryDiagnoser]
public class GroupScaleBenchmarks
{
    private readonly List<string> _topics = new();

    [Params("uniform", "range")]
    public string Assignor { get; set; } = "uniform";

    [Benchmark]
    public int HundredMembersJoinAndBecomeStable() => RunAsync().GetAwaiter().GetResult();

    private async Task<int> RunAsync()
    {
        var metadata = new FixedTopicMetadata();
        _topics.Clear();
        for (int t = 0; t < 10; t++)
        {
            _topics.Add("scale-" + t);
            metadata.Add(_topics[t], 100);
        }
        var coordinator = new GroupCoordinator(new GroupCoordinatorConfig { OffsetsTopicNumPartitions = 1 },
            new EncodeOnlyCoordinatorLog(), metadata, TimeProvider.System, NullLoggerFactory.Instance);
        await coordinator.OnElectionAsync(0);
        try
        {
            var ids = new string[100];
            var epochs = new int[100];
            var owned = new TopicPartitionSet[100];
            for (int i = 0; i < 100; i++)
            {
                var r = await coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams("scale", "", 0, null, null, 60000,
                    _topics, null, Assignor, TopicPartitionSet.Empty, "client", "/127.0.0.1", 1));
                ids[i] = r.MemberId!;
                epochs[i] = r.MemberEpoch;
                owned[i] = r.Assignment ?? TopicPartitionSet.Empty;
            }
            for (int round = 0; round < 10; round++)
            {
                bool settled = true;
                for (int i = 0; i < 100; i++)
                {
                    var r = await coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams("scale", ids[i], epochs[i], null, null, -1,
                        null, null, null, owned[i], "client", "/127.0.0.1", 1));
                    if (r.Error != ErrorCode.None) throw new InvalidOperationException(r.Error.ToString());
                    if (r.MemberEpoch != epochs[i] || r.Assignment is not null && !r.Assignment.SetEquals(owned[i])) settled = false;
                    epochs[i] = r.MemberEpoch;
                    if (r.Assignment is not null) owned[i] = r.Assignment;
                }
                if (settled) return round;
            }
            throw new InvalidOperationException("not stable after 10 rounds");
        }
        finally
        {
            await coordinator.DisposeAsync();
        }
    }
}
