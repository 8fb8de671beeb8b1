using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

// Offsets (OffsetCommit/OffsetFetch/OffsetDelete), group administration (ListGroups,
// DescribeGroups, DeleteGroups), offset expiry and lag, after Kafka's OffsetMetadataManager.
public sealed partial class GroupCoordinatorShard
{
    private const string ExpirationTimerKey = "expire-offsets";

    internal async ValueTask<IReadOnlyList<(string Topic, int Partition, ErrorCode Error)>> CommitOffsetsAsync(OffsetCommitParams p)
    {
        var error = ValidateOffsetCommit(p);
        var results = new List<(string, int, ErrorCode)>(p.Partitions.Count);
        if (error != ErrorCode.None)
        {
            foreach (var partition in p.Partitions) results.Add((partition.Topic, partition.Partition, error));
            return results;
        }
        long now = NowMs;
        long expireTimestamp = p.RetentionTimeMs >= 0 ? now + p.RetentionTimeMs : -1;
        var records = new List<GroupRecord>(p.Partitions.Count);
        var recordIndex = new List<int>(p.Partitions.Count);
        foreach (var partition in p.Partitions)
        {
            string metadata = partition.Metadata ?? string.Empty;
            if (metadata.Length > Config.OffsetMetadataMaxBytes)
            {
                results.Add((partition.Topic, partition.Partition, ErrorCode.OffsetMetadataTooLarge));
                continue;
            }
            recordIndex.Add(results.Count);
            results.Add((partition.Topic, partition.Partition, ErrorCode.None));
            records.Add(new OffsetCommitRecord(p.GroupId, partition.Topic, partition.Partition,
                new OffsetAndMetadata(partition.Offset, partition.LeaderEpoch, metadata, now, expireTimestamp)));
        }
        var appendError = await AppendAsync(records).ConfigureAwait(false);
        if (appendError != ErrorCode.None)
        {
            if (appendError is ErrorCode.UnknownServerError) appendError = ErrorCode.InvalidCommitOffsetSize;
            foreach (int i in recordIndex) results[i] = (results[i].Item1, results[i].Item2, appendError);
        }
        return results;
    }

    private ErrorCode ValidateOffsetCommit(OffsetCommitParams p)
    {
        if (string.IsNullOrEmpty(p.GroupId)) return ErrorCode.InvalidGroupId;
        switch (FindGroup(p.GroupId))
        {
            case null:
                // A simple consumer (generation -1) may commit for a group that does not exist.
                if (p.GenerationIdOrMemberEpoch < 0) return ErrorCode.None;
                return p.ApiVersion >= 9 ? ErrorCode.GroupIdNotFound : ErrorCode.IllegalGeneration;
            case ClassicGroup group:
                if (group.State == ClassicGroupState.Dead) return ErrorCode.CoordinatorNotAvailable;
                if (p.GenerationIdOrMemberEpoch < 0 && group.State == ClassicGroupState.Empty) return ErrorCode.None;
                if (p.GenerationIdOrMemberEpoch >= 0 || p.MemberId.Length > 0 || p.GroupInstanceId is not null)
                {
                    var error = ValidateMember(group, p.MemberId, p.GroupInstanceId, p.GenerationIdOrMemberEpoch);
                    if (error != ErrorCode.None) return error;
                }
                else if (group.State != ClassicGroupState.Empty)
                {
                    return ErrorCode.UnknownMemberId;
                }
                // Kafka rejects commits between JoinGroup and SyncGroup: the assignment is not known yet.
                return group.State == ClassicGroupState.CompletingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None;
            case ConsumerGroup consumer:
                if (p.GenerationIdOrMemberEpoch < 0 && consumer.Members.Count == 0) return ErrorCode.None;
                if (!consumer.Members.TryGetValue(p.MemberId, out var member)) return ErrorCode.UnknownMemberId;
                if (p.GenerationIdOrMemberEpoch != member.MemberEpoch)
                    // A classic member's epoch is its generation: it gets the classic error.
                    return p.ApiVersion >= 9 && !member.UsesClassicProtocol ? ErrorCode.StaleMemberEpoch : ErrorCode.IllegalGeneration;
                return ErrorCode.None;
            default:
                return ErrorCode.GroupIdNotFound;
        }
    }

    internal ValueTask<OffsetFetchResult> FetchOffsets(OffsetFetchParams p)
    {
        if (p.MemberId is not null && FindGroup(p.GroupId) is ConsumerGroup consumer)
        {
            // KIP-848 (OffsetFetch v9): a member fetching with its epoch must be current.
            if (!consumer.Members.TryGetValue(p.MemberId, out var member))
                return ValueTask.FromResult(new OffsetFetchResult(ErrorCode.UnknownMemberId, Array.Empty<FetchedOffset>()));
            if (p.MemberEpoch != member.MemberEpoch)
                return ValueTask.FromResult(new OffsetFetchResult(ErrorCode.StaleMemberEpoch, Array.Empty<FetchedOffset>()));
        }
        var offsets = OffsetsOf(p.GroupId);
        var result = new List<FetchedOffset>();
        if (p.Topics is null)
        {
            if (offsets is not null)
                foreach (var (key, value) in offsets)
                    result.Add(new FetchedOffset(key.Topic, key.Partition, value.Offset, value.LeaderEpoch, value.Metadata, ErrorCode.None));
        }
        else
        {
            foreach (var (topic, partitions) in p.Topics)
            {
                foreach (int partition in partitions)
                {
                    if (offsets is not null && offsets.TryGetValue(new TopicPartitionKey(topic, partition), out var value))
                        result.Add(new FetchedOffset(topic, partition, value.Offset, value.LeaderEpoch, value.Metadata, ErrorCode.None));
                    else
                        result.Add(new FetchedOffset(topic, partition, -1, -1, string.Empty, ErrorCode.None));
                }
            }
        }
        // require_stable (KIP-447) waits out pending transactional offset commits; this
        // coordinator has none until transactional offsets exist, so every offset is stable.
        return ValueTask.FromResult(new OffsetFetchResult(ErrorCode.None, result));
    }

    internal async ValueTask<(ErrorCode Error, IReadOnlyList<(string Topic, int Partition, ErrorCode Error)> Partitions)> DeleteOffsetsAsync(
        string groupId, IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)> topics)
    {
        var group = FindGroup(groupId);
        if (group is null) return (ErrorCode.GroupIdNotFound, Array.Empty<(string, int, ErrorCode)>());
        HashSet<string>? subscribed = null;
        if (group is ClassicGroup classic && classic.State != ClassicGroupState.Empty)
        {
            subscribed = classic.SubscribedTopics();
            if (subscribed is null) return (ErrorCode.NonEmptyGroup, Array.Empty<(string, int, ErrorCode)>());
        }
        else if (group is ConsumerGroup consumer)
        {
            subscribed = consumer.SubscribedTopicNames(_metadata, Config.SubscriptionRegexTimeout);
        }
        var offsets = OffsetsOf(groupId);
        var results = new List<(string, int, ErrorCode)>();
        var records = new List<GroupRecord>();
        foreach (var (topic, partitions) in topics)
        {
            bool isSubscribed = subscribed is not null && subscribed.Contains(topic);
            foreach (int partition in partitions)
            {
                results.Add((topic, partition, isSubscribed ? ErrorCode.GroupSubscribedToTopic : ErrorCode.None));
                if (!isSubscribed && offsets is not null && offsets.ContainsKey(new TopicPartitionKey(topic, partition)))
                    records.Add(new OffsetCommitRecord(groupId, topic, partition, null));
            }
        }
        var error = await AppendAsync(records).ConfigureAwait(false);
        return (error, results);
    }

    internal IReadOnlyList<ListedGroup> ListGroups(IReadOnlyCollection<string>? states, IReadOnlyCollection<string>? types)
    {
        var result = new List<ListedGroup>();
        foreach (var group in _groups.Values)
        {
            if (states is { Count: > 0 } && !ContainsIgnoreCase(states, group.StateName)) continue;
            if (types is { Count: > 0 } && !ContainsIgnoreCase(types, group.GroupType)) continue;
            result.Add(new ListedGroup(group.GroupId, group.ProtocolType, group.StateName, group.GroupType));
        }
        return result;
    }

    private static bool ContainsIgnoreCase(IReadOnlyCollection<string> values, string value)
    {
        foreach (var v in values)
            if (string.Equals(v, value, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    internal DescribedClassicGroup DescribeClassicGroup(string groupId)
    {
        var none = Array.Empty<(string, string?, string, string, byte[], byte[])>();
        switch (FindGroup(groupId))
        {
            case null:
                // Kafka describes an unknown group as Dead with no error.
                return new DescribedClassicGroup(ErrorCode.None, groupId, "Dead", string.Empty, string.Empty, none);
            case ClassicGroup group:
            {
                bool stable = group.State == ClassicGroupState.Stable;
                var members = new List<(string, string?, string, string, byte[], byte[])>(group.MemberCount);
                foreach (var m in group.Members)
                {
                    // Metadata and assignment are only meaningful once a generation is stable.
                    byte[] metadata = stable && group.ProtocolName is not null ? m.MetadataFor(group.ProtocolName) ?? Array.Empty<byte>() : Array.Empty<byte>();
                    members.Add((m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, metadata, stable ? m.Assignment : Array.Empty<byte>()));
                }
                return new DescribedClassicGroup(ErrorCode.None, groupId, group.StateName, group.ProtocolType,
                    stable ? group.ProtocolName ?? string.Empty : string.Empty, members);
            }
            default:
                // A KIP-848 group is described with ConsumerGroupDescribe (Kafka answers GROUP_ID_NOT_FOUND here).
                return new DescribedClassicGroup(ErrorCode.GroupIdNotFound, groupId, "Dead", string.Empty, string.Empty, none);
        }
    }

    internal async ValueTask<IReadOnlyList<(string GroupId, ErrorCode Error)>> DeleteGroupsAsync(IReadOnlyList<string> groupIds)
    {
        var results = new List<(string, ErrorCode)>(groupIds.Count);
        var records = new List<GroupRecord>();
        var deleting = new List<int>();
        foreach (string groupId in groupIds)
        {
            var group = FindGroup(groupId);
            ErrorCode error = group switch
            {
                null => ErrorCode.GroupIdNotFound,
                ClassicGroup c when c.State == ClassicGroupState.Dead => ErrorCode.GroupIdNotFound,
                ClassicGroup c when c.State != ClassicGroupState.Empty => ErrorCode.NonEmptyGroup,
                ConsumerGroup cg when !cg.IsEmpty => ErrorCode.NonEmptyGroup,
                _ => ErrorCode.None,
            };
            if (error == ErrorCode.None)
            {
                deleting.Add(results.Count);
                AddGroupTombstones(group!, records);
            }
            results.Add((groupId, error));
        }
        var appendError = await AppendAsync(records).ConfigureAwait(false);
        if (appendError != ErrorCode.None)
            foreach (int i in deleting) results[i] = (results[i].Item1, appendError);
        return results;
    }

    /// <summary>Tombstones for every offset of the group and for the group itself.</summary>
    private void AddGroupTombstones(GroupBase group, List<GroupRecord> records)
    {
        if (OffsetsOf(group.GroupId) is { } offsets)
            foreach (var key in offsets.Keys)
                records.Add(new OffsetCommitRecord(group.GroupId, key.Topic, key.Partition, null));
        if (group is ConsumerGroup consumer) consumer.AddDeletionRecords(records);
        else records.Add(new ClassicGroupRecord(group.GroupId, null));
    }

    // ----- expiry ----------------------------------------------------------------------------

    private void ScheduleOffsetExpiration() =>
        Timer.Schedule(ExpirationTimerKey, Config.OffsetsRetentionCheckIntervalMs, async () =>
        {
            await CleanupExpiredOffsetsAsync().ConfigureAwait(false);
            ScheduleOffsetExpiration();
        });

    /// <summary>
    /// Kafka's offset expiry: offsets of a group without members expire offsets.retention.minutes
    /// after the group became empty (or after their commit for simple groups); offsets with an
    /// explicit expire timestamp (OffsetCommit v2-v4 retention) at that time; a group that is
    /// empty with no offsets left is deleted too, at the first check that finds it so.
    /// </summary>
    internal async ValueTask<int> CleanupExpiredOffsetsAsync()
    {
        long now = NowMs;
        long retention = Config.OffsetsRetentionMs;
        var records = new List<GroupRecord>();
        foreach (var (groupId, offsets) in _offsets)
        {
            var group = FindGroup(groupId);
            HashSet<string>? subscribed = null;
            Func<OffsetAndMetadata, long>? baseTimestamp = null;
            switch (group)
            {
                case null:
                    baseTimestamp = o => o.CommitTimestampMs;
                    break;
                case ClassicGroup classic when classic.State == ClassicGroupState.Empty:
                    long emptySince = classic.CurrentStateTimestampMs;
                    baseTimestamp = classic.ProtocolTypeOrNull is null ? o => o.CommitTimestampMs : o => Math.Max(emptySince, o.CommitTimestampMs);
                    break;
                case ClassicGroup classic when classic.State == ClassicGroupState.Stable && classic.SubscribedTopics() is { } topics:
                    subscribed = topics;
                    baseTimestamp = o => o.CommitTimestampMs;
                    break;
                case ConsumerGroup consumer:
                    subscribed = consumer.SubscribedTopicNames(_metadata, Config.SubscriptionRegexTimeout);
                    baseTimestamp = o => o.CommitTimestampMs;
                    break;
            }
            if (baseTimestamp is null) continue;
            int expired = 0;
            foreach (var (key, value) in offsets)
            {
                if (subscribed is not null && subscribed.Contains(key.Topic)) continue;
                bool isExpired = value.ExpireTimestampMs >= 0 ? now >= value.ExpireTimestampMs : now - baseTimestamp(value) >= retention;
                if (!isExpired) continue;
                records.Add(new OffsetCommitRecord(groupId, key.Topic, key.Partition, null));
                expired++;
            }
            if (expired == offsets.Count && group is not null && group.IsEmpty)
            {
                if (group is ConsumerGroup consumer) consumer.AddDeletionRecords(records);
                else records.Add(new ClassicGroupRecord(groupId, null));
            }
        }
        // Kafka's cleanupGroupMetadata also deletes groups that are empty and have no offsets at
        // all (every member left and nothing was ever committed, or DeleteOffsets removed it all).
        foreach (var (groupId, group) in _groups)
        {
            if (_offsets.ContainsKey(groupId) || !group.IsEmpty) continue;
            if (group is ConsumerGroup consumer) consumer.AddDeletionRecords(records);
            else if (group is ClassicGroup classic && classic.State == ClassicGroupState.Empty && classic.PendingMembers.Count == 0)
                records.Add(new ClassicGroupRecord(groupId, null)); // a pending member is about to join: leave it be
        }
        if (records.Count == 0) return 0;
        var error = await AppendAsync(records).ConfigureAwait(false);
        if (error != ErrorCode.None)
        {
            _logger.LogWarning("Offset expiry on __consumer_offsets-{Partition} failed: {Error}", PartitionIndex, error);
            return 0;
        }
        _logger.LogInformation("Expired {Count} offsets/groups on __consumer_offsets-{Partition}", records.Count, PartitionIndex);
        return records.Count;
    }

    internal IReadOnlyList<GroupPartitionLag> ComputeLag()
    {
        var result = new List<GroupPartitionLag>();
        foreach (var (groupId, offsets) in _offsets)
        {
            foreach (var (key, value) in offsets)
            {
                long? highWatermark = _metadata.GetHighWatermark(key.Topic, key.Partition);
                if (highWatermark is null) continue;
                result.Add(new GroupPartitionLag(groupId, key.Topic, key.Partition, value.Offset, highWatermark.Value));
            }
        }
        return result;
    }
}
