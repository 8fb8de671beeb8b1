using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

public enum ShardStatus { Loading, Active, Closed }

public readonly record struct TopicPartitionKey(string Topic, int Partition);

/// <summary>
/// The group coordinator state of one __consumer_offsets partition (Kafka's
/// GroupCoordinatorShard under the CoordinatorRuntime). Every operation runs on the shard's
/// <see cref="ShardExecutor"/>: it validates a request against the current state, produces
/// records, appends them (the response waits for the append), and only then replays them into
/// the state. Loading is the same replay over the partition from its start.
///
/// Exception, as in Kafka: a classic group's rebalance state (who has joined, pending responses)
/// lives in memory; its GroupMetadata record is a snapshot written when an assignment is stored
/// or the group empties, and is replayed only while loading.
///
/// Threading: all members are confined to the executor except <see cref="Status"/> (volatile).
/// </summary>
public sealed partial class GroupCoordinatorShard
{
    private readonly ICoordinatorLog _log;
    private readonly ITopicMetadataSource _metadata;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, GroupBase> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<TopicPartitionKey, OffsetAndMetadata>> _offsets = new(StringComparer.Ordinal);
    private volatile ShardStatus _status = ShardStatus.Loading;

    internal GroupCoordinatorShard(int partitionIndex, GroupCoordinatorConfig config, ICoordinatorLog log,
        ITopicMetadataSource metadata, TimeProvider time, ILogger logger)
    {
        PartitionIndex = partitionIndex;
        Config = config;
        _log = log;
        _metadata = metadata;
        _time = time;
        _logger = logger;
        Executor = new ShardExecutor(logger);
        Timer = new CoordinatorTimer(time, Executor);
    }

    public int PartitionIndex { get; }
    public ShardStatus Status => _status;
    public GroupCoordinatorConfig Config { get; }
    internal ShardExecutor Executor { get; }
    internal CoordinatorTimer Timer { get; }
    internal long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // ----- lifecycle -----------------------------------------------------------------------

    /// <summary>Replays the partition from its start; requests get COORDINATOR_LOAD_IN_PROGRESS until done.</summary>
    internal Task LoadAsync(CancellationToken cancellationToken) => Executor.SubmitAsync(async () =>
    {
        long started = NowMs;
        int count = 0;
        await foreach (var record in _log.ReadAllAsync(PartitionIndex, cancellationToken).ConfigureAwait(false))
        {
            Replay(record);
            count++;
        }
        OnLoaded();
        _status = ShardStatus.Active;
        _logger.Log(count == 0 ? LogLevel.Debug : LogLevel.Information,
            "Loaded __consumer_offsets-{Partition}: {Records} records, {Groups} groups in {Ms} ms",
            PartitionIndex, count, _groups.Count, NowMs - started);
        return true;
    });

    /// <summary>Stops serving (leadership moved or shutdown): pending joins and syncs get NOT_COORDINATOR.</summary>
    internal async Task UnloadAsync()
    {
        await Executor.SubmitAsync(() =>
        {
            _status = ShardStatus.Closed;
            Timer.CancelAll();
            foreach (var group in _groups.Values)
            {
                if (group is not ClassicGroup classic) continue;
                foreach (var member in classic.Members)
                {
                    member.CompleteJoin(JoinGroupResult.Failed(ErrorCode.NotCoordinator, member.MemberId));
                    member.CompleteSync(SyncGroupResult.Failed(ErrorCode.NotCoordinator));
                }
            }
            _groups.Clear();
            _offsets.Clear();
            return ValueTask.FromResult(true);
        }).ConfigureAwait(false);
        await Executor.StopAsync().ConfigureAwait(false);
    }

    /// <summary>After a load: start session timers for loaded members and the offset expiry check.</summary>
    private void OnLoaded()
    {
        foreach (var group in _groups.Values)
        {
            if (group is ClassicGroup classic)
                foreach (var member in classic.Members) RescheduleHeartbeat(classic, member, member.SessionTimeoutMs);
            else if (group is ConsumerGroup consumer)
                foreach (var member in consumer.Members.Values)
                    ScheduleConsumerSessionTimeout(consumer.GroupId, member.MemberId, member.Classic?.SessionTimeoutMs);
        }
        ScheduleOffsetExpiration();
    }

    /// <summary>Runs a read or write operation on the executor, failing fast when the shard is not active.</summary>
    internal Task<T> RunAsync<T>(Func<ValueTask<T>> operation, Func<ErrorCode, T> onError)
    {
        var status = _status;
        if (status == ShardStatus.Loading) return Task.FromResult(onError(ErrorCode.CoordinatorLoadInProgress));
        if (status == ShardStatus.Closed) return Task.FromResult(onError(ErrorCode.NotCoordinator));
        return Executor.SubmitAsync(() =>
        {
            var now = _status;
            if (now != ShardStatus.Active)
                return ValueTask.FromResult(onError(now == ShardStatus.Loading ? ErrorCode.CoordinatorLoadInProgress : ErrorCode.NotCoordinator));
            return operation();
        });
    }

    // ----- append and replay ---------------------------------------------------------------

    /// <summary>
    /// Appends the records of one operation, waits for the commit, then replays them.
    /// Returns the error to report (Kafka's mapping of append errors for coordinator writes).
    /// Must run on the executor.
    /// </summary>
    internal async ValueTask<ErrorCode> AppendAsync(List<GroupRecord> records)
    {
        if (records.Count == 0) return ErrorCode.None;
        try
        {
            await _log.AppendAsync(PartitionIndex, records, CancellationToken.None).ConfigureAwait(false);
        }
        catch (CoordinatorLogException ex)
        {
            _logger.LogWarning("Append to __consumer_offsets-{Partition} failed: {Error} {Message}", PartitionIndex, ex.Error, ex.Message);
            return MapAppendError(ex.Error);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Append to __consumer_offsets-{Partition} failed", PartitionIndex);
            return ErrorCode.UnknownServerError;
        }
        foreach (var record in records) Replay(record);
        return ErrorCode.None;
    }

    // Kafka's CoordinatorRuntime/GroupCoordinatorService error translation for writes.
    private static ErrorCode MapAppendError(ErrorCode error) => error switch
    {
        ErrorCode.UnknownTopicOrPartition or ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend
            or ErrorCode.RequestTimedOut => ErrorCode.CoordinatorNotAvailable,
        ErrorCode.NotLeaderOrFollower or ErrorCode.KafkaStorageError => ErrorCode.NotCoordinator,
        ErrorCode.MessageTooLarge or ErrorCode.RecordListTooLarge or ErrorCode.InvalidFetchSize => ErrorCode.UnknownServerError,
        _ => error,
    };

    internal void Replay(GroupRecord record)
    {
        switch (record)
        {
            case OffsetCommitRecord offset:
                ReplayOffset(offset);
                break;
            case ClassicGroupRecord classic:
                ReplayClassicGroup(classic);
                break;
            case ConsumerGroupMetadataRecord r:
                ReplayConsumerGroupMetadata(r);
                break;
            case ConsumerGroupMemberMetadataRecord r:
                GetOrCreateConsumerGroupForReplay(r.GroupId, r.Value is not null)?.ReplayMemberMetadata(r);
                break;
            case ConsumerGroupTargetAssignmentMetadataRecord r:
                GetOrCreateConsumerGroupForReplay(r.GroupId, r.AssignmentEpoch is not null)?.ReplayTargetAssignmentMetadata(r);
                break;
            case ConsumerGroupTargetAssignmentMemberRecord r:
                GetOrCreateConsumerGroupForReplay(r.GroupId, r.Value is not null)?.ReplayTargetAssignmentMember(r);
                break;
            case ConsumerGroupCurrentMemberAssignmentRecord r:
                GetOrCreateConsumerGroupForReplay(r.GroupId, r.Value is not null)?.ReplayCurrentAssignment(r);
                break;
            case ConsumerGroupPartitionMetadataRecord:
                break; // Kafka 4.0's subscription metadata: recomputed from topic metadata instead.
            default:
                throw new InvalidOperationException($"Unknown record {record.GetType().Name}");
        }
    }

    private void ReplayOffset(OffsetCommitRecord record)
    {
        if (record.Value is null)
        {
            if (_offsets.TryGetValue(record.GroupId, out var partitions))
            {
                partitions.Remove(new TopicPartitionKey(record.Topic, record.Partition));
                if (partitions.Count == 0) _offsets.Remove(record.GroupId);
            }
            return;
        }
        if (!_offsets.TryGetValue(record.GroupId, out var map))
            _offsets[record.GroupId] = map = new Dictionary<TopicPartitionKey, OffsetAndMetadata>();
        map[new TopicPartitionKey(record.Topic, record.Partition)] = record.Value;
        // A simple (generation -1) commit makes the group exist, as Kafka creates an empty classic group.
        if (!_groups.ContainsKey(record.GroupId))
            _groups[record.GroupId] = new ClassicGroup(record.GroupId, NowMs);
    }

    private void ReplayClassicGroup(ClassicGroupRecord record)
    {
        if (record.Value is null)
        {
            if (_groups.TryGetValue(record.GroupId, out var existing) && existing is ClassicGroup dead)
            {
                dead.TransitionTo(ClassicGroupState.Dead, NowMs);
                _groups.Remove(record.GroupId);
            }
            return;
        }
        if (_status != ShardStatus.Loading) return; // runtime state is already in memory (see class comment)
        var snapshot = record.Value;
        var group = new ClassicGroup(record.GroupId, snapshot.CurrentStateTimestampMs)
        {
            GenerationId = snapshot.Generation,
            ProtocolTypeOrNull = snapshot.ProtocolType,
            ProtocolName = snapshot.Protocol,
        };
        foreach (var m in snapshot.Members)
        {
            group.Add(new ClassicGroupMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                RebalanceTimeoutMs = m.RebalanceTimeoutMs,
                SessionTimeoutMs = m.SessionTimeoutMs,
                ProtocolType = snapshot.ProtocolType,
                Protocols = new List<(string, byte[])> { (snapshot.Protocol ?? string.Empty, m.Subscription) },
                Assignment = m.Assignment,
            });
        }
        group.LeaderId = snapshot.Leader;
        group.RestoreState(group.MemberCount == 0 ? ClassicGroupState.Empty : ClassicGroupState.Stable,
            snapshot.CurrentStateTimestampMs < 0 ? NowMs : snapshot.CurrentStateTimestampMs);
        _groups[record.GroupId] = group;
    }

    // ----- queries used by several APIs ----------------------------------------------------

    internal GroupBase? FindGroup(string groupId) => _groups.GetValueOrDefault(groupId);

    internal IReadOnlyDictionary<TopicPartitionKey, OffsetAndMetadata>? OffsetsOf(string groupId) =>
        _offsets.GetValueOrDefault(groupId);

    internal IEnumerable<GroupBase> Groups => _groups.Values;

    /// <summary>Removes a group object with no offsets left (Kafka deletes empty groups with no offsets).</summary>
    private void RemoveGroupIfEmptyAndNoOffsets(string groupId)
    {
        if (_groups.TryGetValue(groupId, out var group) && group.IsEmpty && !_offsets.ContainsKey(groupId))
        {
            if (group is ClassicGroup classic && classic.State != ClassicGroupState.Dead)
                classic.TransitionTo(ClassicGroupState.Dead, NowMs);
            _groups.Remove(groupId);
        }
    }
}
