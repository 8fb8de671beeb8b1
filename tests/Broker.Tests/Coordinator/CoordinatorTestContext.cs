using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Broker.Coordinator.Group;
using Broker.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Tests.Coordinator;

/// <summary>
/// An in-memory __consumer_offsets: every append is serialized with Kafka's record format and
/// every load deserializes it, so the serde is exercised by every test that replays.
/// </summary>
internal sealed class InMemoryCoordinatorLog : ICoordinatorLog
{
    private readonly ConcurrentDictionary<int, List<(byte[] Key, byte[]? Value)>> _partitions = new();

    public ErrorCode? FailAppendsWith { get; set; }
    public TaskCompletionSource? LoadGate { get; set; }
    public int AppendCount;

    public List<(byte[] Key, byte[]? Value)> Records(int partition) => _partitions.GetOrAdd(partition, _ => new());

    public ValueTask<long> AppendAsync(int partition, IReadOnlyList<GroupRecord> records, CancellationToken cancellationToken)
    {
        if (FailAppendsWith is { } error) throw new CoordinatorLogException(error, "injected");
        var list = Records(partition);
        lock (list)
        {
            foreach (var record in records) list.Add(GroupRecordSerde.Serialize(record));
            Interlocked.Increment(ref AppendCount);
            return ValueTask.FromResult((long)list.Count);
        }
    }

    public async IAsyncEnumerable<GroupRecord> ReadAllAsync(int partition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (LoadGate is { } gate) await gate.Task.WaitAsync(cancellationToken);
        List<(byte[] Key, byte[]? Value)> copy;
        var list = Records(partition);
        lock (list) copy = new(list);
        foreach (var (key, value) in copy)
        {
            var record = GroupRecordSerde.Deserialize(key, value);
            if (record is not null) yield return record;
        }
    }
}

internal sealed class FakeTopicMetadata : ITopicMetadataSource
{
    private readonly ConcurrentDictionary<string, (Guid, int)> _topics = new();
    private long _version;
    public ConcurrentDictionary<(string, int), long> HighWatermarks { get; } = new();

    public Guid AddTopic(string name, int partitions)
    {
        var id = _topics.TryGetValue(name, out var existing) ? existing.Item1 : Guid.NewGuid();
        _topics[name] = (id, partitions);
        Interlocked.Increment(ref _version);
        return id;
    }

    public (Guid TopicId, int PartitionCount)? GetTopic(string topicName) => _topics.TryGetValue(topicName, out var t) ? t : null;
    public string? GetTopicName(Guid topicId) => _topics.FirstOrDefault(kv => kv.Value.Item1 == topicId).Key;
    public IReadOnlyCollection<string> GetTopicNames() => _topics.Keys.ToList();
    public long? GetHighWatermark(string topicName, int partition) => HighWatermarks.TryGetValue((topicName, partition), out var h) ? h : null;
    public long MetadataVersion => Interlocked.Read(ref _version);
}

internal sealed class CoordinatorTestContext : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public CoordinatorTestContext(GroupCoordinatorConfig? config = null, InMemoryCoordinatorLog? log = null,
        FakeTimeProvider? time = null, FakeTopicMetadata? metadata = null)
    {
        Config = config ?? new GroupCoordinatorConfig { OffsetsTopicNumPartitions = 4, GroupInitialRebalanceDelayMs = 0 };
        Log = log ?? new InMemoryCoordinatorLog();
        Time = time ?? new FakeTimeProvider();
        Metadata = metadata ?? new FakeTopicMetadata();
        Coordinator = new GroupCoordinator(Config, Log, Metadata, Time, NullLoggerFactory.Instance);
    }

    public GroupCoordinatorConfig Config { get; }
    public InMemoryCoordinatorLog Log { get; }
    public FakeTimeProvider Time { get; }
    public FakeTopicMetadata Metadata { get; }
    public GroupCoordinator Coordinator { get; }

    public static async Task<CoordinatorTestContext> StartAsync(GroupCoordinatorConfig? config = null, InMemoryCoordinatorLog? log = null,
        FakeTimeProvider? time = null, FakeTopicMetadata? metadata = null)
    {
        var context = new CoordinatorTestContext(config, log, time, metadata);
        for (int i = 0; i < context.Config.OffsetsTopicNumPartitions; i++)
            await context.Coordinator.OnElectionAsync(i).WaitAsync(Timeout);
        return context;
    }

    /// <summary>A new coordinator over the same log and clock: a broker restart.</summary>
    public async Task<CoordinatorTestContext> RestartAsync()
    {
        await Coordinator.DisposeAsync();
        return await StartAsync(Config, Log, Time, Metadata);
    }

    /// <summary>Waits until every shard has run all work queued so far (including timer expiries).</summary>
    public async Task DrainAsync()
    {
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < Config.OffsetsTopicNumPartitions; i++)
                if (Coordinator.Shard(i) is { } shard) await shard.Executor.DrainAsync().WaitAsync(Timeout);
    }

    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await DrainAsync();
    }

    public static List<(string, byte[])> Protocols(params string[] names) =>
        names.Select(n => (n, new byte[] { 1, 2, (byte)n.Length })).ToList();

    public Task<JoinGroupResult> JoinAsync(string groupId, string memberId = "", string? instanceId = null,
        string protocolType = "consumer", List<(string, byte[])>? protocols = null, int sessionTimeoutMs = 10000,
        int rebalanceTimeoutMs = 30000, short version = 9) =>
        Coordinator.JoinGroupAsync(new JoinGroupParams(groupId, memberId, instanceId, protocolType,
            protocols ?? Protocols("range"), sessionTimeoutMs, rebalanceTimeoutMs, "client", "/127.0.0.1", version), CancellationToken.None)
            .WaitAsync(Timeout);

    /// <summary>Join the KIP-394 way: first MEMBER_ID_REQUIRED, then join with the id.</summary>
    public async Task<Task<JoinGroupResult>> StartJoinWithIdAsync(string groupId, List<(string, byte[])>? protocols = null,
        int sessionTimeoutMs = 10000, string protocolType = "consumer")
    {
        var first = await JoinAsync(groupId, protocols: protocols, sessionTimeoutMs: sessionTimeoutMs, protocolType: protocolType);
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        var join = JoinAsync(groupId, first.MemberId, protocols: protocols, sessionTimeoutMs: sessionTimeoutMs, protocolType: protocolType);
        await DrainAsync(); // the join is parked (or done) before the caller moves the clock
        return join;
    }

    public Task<SyncGroupResult> SyncAsync(string groupId, int generation, string memberId,
        IReadOnlyList<(string, byte[])>? assignments = null, string? instanceId = null) =>
        Coordinator.SyncGroupAsync(new SyncGroupParams(groupId, generation, memberId, instanceId, null, null,
            assignments ?? Array.Empty<(string, byte[])>()), CancellationToken.None).WaitAsync(Timeout);

    public Task<ErrorCode> HeartbeatAsync(string groupId, int generation, string memberId, string? instanceId = null) =>
        Coordinator.HeartbeatAsync(new HeartbeatParams(groupId, generation, memberId, instanceId)).WaitAsync(Timeout);

    public Task<IReadOnlyList<(string Topic, int Partition, ErrorCode Error)>> CommitAsync(string groupId, int generation, string memberId,
        string topic, int partition, long offset, short version = 8) =>
        Coordinator.CommitOffsetsAsync(new OffsetCommitParams(groupId, generation, memberId, null, -1, version,
            new[] { new OffsetCommitPartition(topic, partition, offset, -1, "meta") })).WaitAsync(Timeout);

    public async Task<long> FetchOffsetAsync(string groupId, string topic, int partition)
    {
        var result = await Coordinator.FetchOffsetsAsync(new OffsetFetchParams(groupId, null, -1,
            new[] { (topic, (IReadOnlyList<int>)new[] { partition }) }, false)).WaitAsync(Timeout);
        Assert.Equal(ErrorCode.None, result.Error);
        return result.Offsets.Single().Offset;
    }

    public async ValueTask DisposeAsync() => await Coordinator.DisposeAsync();
}
