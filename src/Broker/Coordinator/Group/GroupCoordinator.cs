using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

/// <summary>
/// Routes group requests to the shard owning the group's __consumer_offsets partition
/// (Kafka's GroupCoordinatorService). A shard exists only while this broker leads the
/// partition: <see cref="OnElectionAsync"/> loads it by replay (requests meanwhile get
/// COORDINATOR_LOAD_IN_PROGRESS), <see cref="OnResignationAsync"/> drops it (NOT_COORDINATOR).
/// </summary>
public sealed class GroupCoordinator : IAsyncDisposable
{
    private readonly GroupCoordinatorShard?[] _shards;
    private readonly ICoordinatorLog _log;
    private readonly ITopicMetadataSource _metadata;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly object _lifecycleLock = new();

    public GroupCoordinator(GroupCoordinatorConfig config, ICoordinatorLog log, ITopicMetadataSource metadata,
        TimeProvider time, ILoggerFactory loggerFactory)
    {
        Config = config;
        _log = log;
        _metadata = metadata;
        _time = time;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<GroupCoordinator>();
        _shards = new GroupCoordinatorShard?[config.OffsetsTopicNumPartitions];
    }

    public GroupCoordinatorConfig Config { get; }

    public int PartitionFor(string groupId) => GroupPartitioner.PartitionFor(groupId, Config.OffsetsTopicNumPartitions);

    /// <summary>The shard for a partition, or null when this broker does not coordinate it.</summary>
    public GroupCoordinatorShard? Shard(int partition) => Volatile.Read(ref _shards[partition]);

    /// <summary>Status of the shard owning the group: null when not hosted here.</summary>
    public ShardStatus? StatusOf(string groupId) => Shard(PartitionFor(groupId))?.Status;

    /// <summary>This broker became leader of __consumer_offsets-partition: load it.</summary>
    public Task OnElectionAsync(int partition, CancellationToken cancellationToken = default)
    {
        GroupCoordinatorShard shard;
        lock (_lifecycleLock)
        {
            if (_shards[partition] is { } existing) return Task.CompletedTask;
            shard = new GroupCoordinatorShard(partition, Config, _log, _metadata, _time,
                _loggerFactory.CreateLogger("Broker.Coordinator.Group.Shard"));
            Volatile.Write(ref _shards[partition], shard);
        }
        return shard.LoadAsync(cancellationToken);
    }

    /// <summary>This broker stopped leading the partition (or shuts down): unload it.</summary>
    public Task OnResignationAsync(int partition)
    {
        GroupCoordinatorShard? shard;
        lock (_lifecycleLock)
        {
            shard = _shards[partition];
            Volatile.Write(ref _shards[partition], null);
        }
        return shard?.UnloadAsync() ?? Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = 0; i < _shards.Length; i++) await OnResignationAsync(i).ConfigureAwait(false);
    }

    private Task<T> Run<T>(string groupId, Func<GroupCoordinatorShard, ValueTask<T>> operation, Func<ErrorCode, T> onError)
    {
        var shard = Shard(PartitionFor(groupId));
        if (shard is null) return Task.FromResult(onError(ErrorCode.NotCoordinator));
        return shard.RunAsync(() => operation(shard), onError);
    }

    // ----- classic protocol -------------------------------------------------------------------

    public async Task<JoinGroupResult> JoinGroupAsync(JoinGroupParams p, CancellationToken cancellationToken)
    {
        var pending = await Run(p.GroupId, s => s.ClassicJoinAsync(p),
            e => Task.FromResult(JoinGroupResult.Failed(e, p.MemberId))).ConfigureAwait(false);
        return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<SyncGroupResult> SyncGroupAsync(SyncGroupParams p, CancellationToken cancellationToken)
    {
        var pending = await Run(p.GroupId, s => s.ClassicSyncAsync(p),
            e => Task.FromResult(SyncGroupResult.Failed(e))).ConfigureAwait(false);
        return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<ErrorCode> HeartbeatAsync(HeartbeatParams p) =>
        Run(p.GroupId, s => s.ClassicHeartbeatAsync(p), e => e);

    public Task<LeaveGroupResult> LeaveGroupAsync(string groupId, IReadOnlyList<LeaveGroupMember> members) =>
        Run(groupId, s => s.ClassicLeaveAsync(groupId, members),
            e => new LeaveGroupResult(e, Array.Empty<(string, string?, ErrorCode)>()));

    // ----- KIP-848 ------------------------------------------------------------------------------

    public Task<ConsumerGroupHeartbeatResult> ConsumerGroupHeartbeatAsync(ConsumerGroupHeartbeatParams p) =>
        Run(p.GroupId, s => s.ConsumerGroupHeartbeatAsync(p), e => new ConsumerGroupHeartbeatResult(e));

    public Task<DescribedConsumerGroup> ConsumerGroupDescribeAsync(string groupId) =>
        Run(groupId, s => ValueTask.FromResult(s.DescribeConsumerGroup(groupId)),
            e => new DescribedConsumerGroup(e, null, groupId, string.Empty, 0, 0, string.Empty, Array.Empty<DescribedConsumerGroupMember>()));

    // ----- offsets and administration ------------------------------------------------------------

    public Task<IReadOnlyList<(string Topic, int Partition, ErrorCode Error)>> CommitOffsetsAsync(OffsetCommitParams p) =>
        Run(p.GroupId, s => s.CommitOffsetsAsync(p), e =>
        {
            var results = new List<(string, int, ErrorCode)>(p.Partitions.Count);
            foreach (var partition in p.Partitions) results.Add((partition.Topic, partition.Partition, e));
            return (IReadOnlyList<(string, int, ErrorCode)>)results;
        });

    public Task<OffsetFetchResult> FetchOffsetsAsync(OffsetFetchParams p) =>
        Run(p.GroupId, s => s.FetchOffsets(p), e => new OffsetFetchResult(e, Array.Empty<FetchedOffset>()));

    public Task<(ErrorCode Error, IReadOnlyList<(string Topic, int Partition, ErrorCode Error)> Partitions)> DeleteOffsetsAsync(
        string groupId, IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)> topics) =>
        Run(groupId, s => s.DeleteOffsetsAsync(groupId, topics), e => (e, (IReadOnlyList<(string, int, ErrorCode)>)Array.Empty<(string, int, ErrorCode)>()));

    public Task<DescribedClassicGroup> DescribeGroupAsync(string groupId) =>
        Run(groupId, s => ValueTask.FromResult(s.DescribeClassicGroup(groupId)),
            e => new DescribedClassicGroup(e, groupId, string.Empty, string.Empty, string.Empty,
                Array.Empty<(string, string?, string, string, byte[], byte[])>()));

    public async Task<IReadOnlyList<(string GroupId, ErrorCode Error)>> DeleteGroupsAsync(IReadOnlyList<string> groupIds)
    {
        var byShard = new Dictionary<int, List<string>>();
        foreach (var groupId in groupIds)
        {
            int partition = PartitionFor(groupId);
            if (!byShard.TryGetValue(partition, out var list)) byShard[partition] = list = new List<string>();
            list.Add(groupId);
        }
        var results = new List<(string, ErrorCode)>(groupIds.Count);
        foreach (var (partition, ids) in byShard)
        {
            var shard = Shard(partition);
            IReadOnlyList<(string, ErrorCode)> shardResults = shard is null
                ? ids.Select(id => (id, ErrorCode.NotCoordinator)).ToList()
                : await shard.RunAsync(() => shard.DeleteGroupsAsync(ids),
                    e => (IReadOnlyList<(string, ErrorCode)>)ids.Select(id => (id, e)).ToList()).ConfigureAwait(false);
            results.AddRange(shardResults);
        }
        return results;
    }

    /// <summary>Groups of every shard hosted here; COORDINATOR_LOAD_IN_PROGRESS while any shard loads (Kafka's ListGroups).</summary>
    public async Task<(ErrorCode Error, IReadOnlyList<ListedGroup> Groups)> ListGroupsAsync(
        IReadOnlyCollection<string>? states, IReadOnlyCollection<string>? types)
    {
        var all = new List<ListedGroup>();
        ErrorCode error = ErrorCode.None;
        for (int i = 0; i < _shards.Length; i++)
        {
            var shard = Shard(i);
            if (shard is null) continue;
            var (shardError, groups) = await shard.RunAsync(
                () => ValueTask.FromResult((ErrorCode.None, shard.ListGroups(states, types))),
                e => (e, (IReadOnlyList<ListedGroup>)Array.Empty<ListedGroup>())).ConfigureAwait(false);
            if (shardError != ErrorCode.None) error = shardError;
            all.AddRange(groups);
        }
        return (error, all);
    }

    /// <summary>Lag of every committed offset against its partition's high watermark (for the metrics exporter).</summary>
    public async Task<IReadOnlyList<GroupPartitionLag>> GetLagAsync()
    {
        var all = new List<GroupPartitionLag>();
        for (int i = 0; i < _shards.Length; i++)
        {
            var shard = Shard(i);
            if (shard is null) continue;
            all.AddRange(await shard.RunAsync(() => ValueTask.FromResult(shard.ComputeLag()),
                _ => Array.Empty<GroupPartitionLag>()).ConfigureAwait(false));
        }
        return all;
    }
}
