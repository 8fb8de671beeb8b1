using BenchmarkDotNet.Attributes;
using Broker.Coordinator.Group;
using Broker.Coordinator.Group.Assignors;

namespace Broker.Benchmarks;

/// <summary>
/// KIP-848 server-side assignors at the size the brief asks for: 100 members over 1000
/// partitions (10 topics of 100). Fresh = no previous assignment; MemberJoined = the 101st
/// member joins a stable group (the sticky path); Steady = nothing changed (must move nothing).
/// </summary>
[MemoryDiagnoser]
public class GroupAssignorBenchmarks
{
    private AssignmentSpec _fresh = null!;
    private AssignmentSpec _memberJoined = null!;
    private AssignmentSpec _steady = null!;
    private readonly UniformAssignor _uniform = new();
    private readonly RangeAssignor _range = new();

    [GlobalSetup]
    public void Setup()
    {
        var topics = new Dictionary<Guid, int>();
        for (int t = 0; t < 10; t++) topics[new Guid(t + 1, 0, 0, new byte[8])] = 100;
        var members = new List<AssignmentMember>();
        for (int i = 0; i < 100; i++) members.Add(new AssignmentMember($"member-{i:D3}", null, topics.Keys.ToList()));
        var none = new Dictionary<string, TopicPartitionSet>();
        _fresh = new AssignmentSpec(members, topics, none);
        var stable = _uniform.Assign(_fresh);
        _steady = new AssignmentSpec(members, topics, stable);
        var grown = new List<AssignmentMember>(members) { new("member-100", null, topics.Keys.ToList()) };
        _memberJoined = new AssignmentSpec(grown, topics, stable);
    }

    [Benchmark(Baseline = true)]
    public int UniformFresh() => _uniform.Assign(_fresh).Count;

    [Benchmark]
    public int UniformMemberJoined() => _uniform.Assign(_memberJoined).Count;

    [Benchmark]
    public int UniformSteady() => _uniform.Assign(_steady).Count;

    [Benchmark]
    public int RangeFresh() => _range.Assign(_fresh).Count;
}
