using System.Text.RegularExpressions;
using Broker.Coordinator.Group.Assignors;
using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

// KIP-848 consumer groups (ConsumerGroupHeartbeat), after Kafka's GroupMetadataManager
// consumerGroupHeartbeat path: update the member's subscription (bumping the group epoch when it
// changes), recompute the target assignment when the group epoch is ahead of the assignment epoch,
// then reconcile the member towards its target (revoke first, assign only released partitions).
public sealed partial class GroupCoordinatorShard
{
    private static string ConsumerSessionKey(string groupId, string memberId) => "consumer-session-" + groupId + "-" + memberId;
    private static string ConsumerRebalanceKey(string groupId, string memberId) => "consumer-rebalance-" + groupId + "-" + memberId;

    internal IReadOnlyDictionary<string, IConsumerGroupAssignor> Assignors { get; set; } = DefaultAssignors();

    internal static IReadOnlyDictionary<string, IConsumerGroupAssignor> DefaultAssignors() =>
        new Dictionary<string, IConsumerGroupAssignor>(StringComparer.Ordinal)
        {
            ["uniform"] = new UniformAssignor(),
            ["range"] = new RangeAssignor(),
        };

    internal async ValueTask<ConsumerGroupHeartbeatResult> ConsumerGroupHeartbeatAsync(ConsumerGroupHeartbeatParams p)
    {
        var invalid = ValidateConsumerHeartbeat(p);
        if (invalid is not null) return invalid;
        if (p.MemberEpoch < 0) return await ConsumerGroupLeaveAsync(p).ConfigureAwait(false);

        var records = new List<GroupRecord>();
        var existing = FindGroup(p.GroupId);
        ConsumerGroup group;
        ClassicGroup? upgradedFrom = null;
        if (existing is ClassicGroup classic)
        {
            if (p.MemberEpoch != 0)
                return new ConsumerGroupHeartbeatResult(ErrorCode.GroupIdNotFound, $"Group {p.GroupId} is not a consumer group.");
            if (classic.IsEmpty)
            {
                // An empty classic group (e.g. only simple offset commits) becomes a consumer group.
                records.Add(new ClassicGroupRecord(p.GroupId, null));
                group = new ConsumerGroup(p.GroupId);
            }
            else if (TryConvertToConsumerGroup(classic, records, out var converted, out var reason))
            {
                group = converted!;
                upgradedFrom = classic;
            }
            else
            {
                _logger.LogInformation("Cannot upgrade classic group {Group} to a consumer group: {Reason}", p.GroupId, reason);
                return new ConsumerGroupHeartbeatResult(ErrorCode.GroupIdNotFound, $"Group {p.GroupId} is not a consumer group.");
            }
        }
        else if (existing is ConsumerGroup consumer) group = consumer;
        else if (p.MemberEpoch == 0) group = new ConsumerGroup(p.GroupId);
        else return new ConsumerGroupHeartbeatResult(ErrorCode.UnknownMemberId, $"Group {p.GroupId} has no member {p.MemberId}.");

        // 1. The member, and its epoch check (Kafka's throwIfMemberEpochIsInvalid).
        string memberId = p.MemberId.Length > 0 ? p.MemberId : NewConsumerMemberId();
        ConsumerGroupMember? member = group.Members.GetValueOrDefault(memberId);
        ConsumerGroupMember? replacedStatic = null;
        if (p.MemberEpoch == 0)
        {
            string? staticId = group.StaticMemberId(p.InstanceId);
            if (staticId is not null && staticId != memberId)
            {
                replacedStatic = group.Members[staticId];
                if (replacedStatic.MemberEpoch != ConsumerGroupHeartbeatParams.LeaveGroupStaticMemberEpoch)
                    return new ConsumerGroupHeartbeatResult(ErrorCode.UnreleasedInstanceId,
                        $"Static member {p.InstanceId} is still in use by {staticId}.");
            }
        }
        else
        {
            if (member is null)
                return new ConsumerGroupHeartbeatResult(ErrorCode.UnknownMemberId, $"Member {memberId} is not in group {p.GroupId}.");
            if (p.MemberEpoch > member.MemberEpoch
                || p.MemberEpoch < member.MemberEpoch && !(p.MemberEpoch == member.PreviousMemberEpoch
                    && p.OwnedPartitions is not null && p.OwnedPartitions.Except(member.AssignedPartitions).IsEmpty))
                return new ConsumerGroupHeartbeatResult(ErrorCode.FencedMemberEpoch,
                    $"Member epoch {p.MemberEpoch} does not match {member.MemberEpoch}.");
        }

        bool isNew = member is null;
        var current = member ?? new ConsumerGroupMember(memberId);
        if (replacedStatic is not null)
        {
            // KIP-848 static membership: the restarted instance takes over the old member's
            // assignment and epoch without a rebalance.
            current.MemberEpoch = replacedStatic.PreviousMemberEpoch;
            current.PreviousMemberEpoch = replacedStatic.PreviousMemberEpoch;
            current.AssignedPartitions = replacedStatic.AssignedPartitions;
            current.SubscribedTopicNames = replacedStatic.SubscribedTopicNames;
            current.SubscribedTopicRegex = replacedStatic.SubscribedTopicRegex;
            current.ServerAssignor = replacedStatic.ServerAssignor;
            current.RackId = replacedStatic.RackId;
            AddMemberRemovalRecords(group, replacedStatic.MemberId, records);
            var oldTarget = group.TargetAssignment.GetValueOrDefault(replacedStatic.MemberId);
            if (oldTarget is not null) records.Add(new ConsumerGroupTargetAssignmentMemberRecord(p.GroupId, memberId, oldTarget));
            isNew = false;
        }

        // 2. Subscription. Names are kept sorted: clients send them in any order (librdkafka reverses them).
        IReadOnlyList<string>? requestedNames = null;
        if (p.SubscribedTopicNames is not null)
        {
            var sorted = new SortedSet<string>(p.SubscribedTopicNames, StringComparer.Ordinal);
            requestedNames = sorted.ToArray();
        }
        var subscription = new ConsumerMemberSubscription(
            p.InstanceId ?? current.InstanceId,
            p.RackId ?? current.RackId,
            p.ClientId,
            p.ClientHost,
            requestedNames ?? current.SubscribedTopicNames,
            p.SubscribedTopicRegex is null ? current.SubscribedTopicRegex : (p.SubscribedTopicRegex.Length == 0 ? null : p.SubscribedTopicRegex),
            p.RebalanceTimeoutMs != -1 ? p.RebalanceTimeoutMs : current.RebalanceTimeoutMs,
            p.ServerAssignor ?? current.ServerAssignor);
        string fingerprint = UpdateMemberAndReconcile(group, memberId, current, isNew, replacedStatic, subscription, p.OwnedPartitions, records);

        var error = await AppendAsync(records).ConfigureAwait(false);
        if (error != ErrorCode.None) return new ConsumerGroupHeartbeatResult(error, "Writing the group state failed.");
        if (FindGroup(p.GroupId) is not ConsumerGroup replayed || !replayed.Members.TryGetValue(memberId, out var result))
            return new ConsumerGroupHeartbeatResult(ErrorCode.UnknownServerError, "Member missing after replay.");
        replayed.SubscriptionFingerprint = fingerprint;
        if (upgradedFrom is not null) CompleteUpgrade(upgradedFrom);
        if (replacedStatic is not null) CancelConsumerMemberTimers(p.GroupId, replacedStatic.MemberId);

        ScheduleConsumerSessionTimeout(p.GroupId, memberId);
        if (result.State == ConsumerMemberState.UnrevokedPartitions)
        {
            if (!Timer.IsScheduled(ConsumerRebalanceKey(p.GroupId, memberId)))
                ScheduleConsumerRebalanceTimeout(p.GroupId, memberId, result.RebalanceTimeoutMs, result.MemberEpoch);
        }
        else
        {
            Timer.Cancel(ConsumerRebalanceKey(p.GroupId, memberId));
        }

        // Kafka sends the assignment on a full request or when it changed. We also resend it until
        // the member reports owning exactly it: librdkafka can drop an assignment that arrives
        // while it is still acknowledging the previous one, and would then wait forever.
        if (p.OwnedPartitions is not null) result.ReportedOwnedPartitions = p.OwnedPartitions;
        bool sendAssignment = p.MemberEpoch == 0
            || !result.AssignedPartitions.SetEquals(current.AssignedPartitions)
            || result.ReportedOwnedPartitions is null
            || !result.ReportedOwnedPartitions.SetEquals(result.AssignedPartitions);
        return new ConsumerGroupHeartbeatResult(ErrorCode.None, null, memberId, result.MemberEpoch,
            Config.GroupConsumerHeartbeatIntervalMs, sendAssignment ? result.AssignedPartitions : null);
    }

    /// <summary>
    /// Steps shared by ConsumerGroupHeartbeat and a classic member's JoinGroup (Kafka runs the same
    /// code for both): write the member's subscription, bump the group epoch when a subscription or
    /// the subscribed topics changed, recompute the target assignment, then reconcile the member.
    /// Returns the subscribed topics' fingerprint to keep once the records are replayed.
    /// </summary>
    private string UpdateMemberAndReconcile(ConsumerGroup group, string memberId, ConsumerGroupMember current, bool isNew,
        ConsumerGroupMember? replacedStatic, ConsumerMemberSubscription subscription, TopicPartitionSet? ownedPartitions, List<GroupRecord> records)
    {
        string groupId = group.GroupId;
        bool subscriptionChanged = isNew
            || !subscription.SubscribedTopicNames.SequenceEqual(current.SubscribedTopicNames)
            || subscription.SubscribedTopicRegex != current.SubscribedTopicRegex
            || subscription.ServerAssignor != current.ServerAssignor
            || subscription.RackId != current.RackId;
        if (subscriptionChanged || !SubscriptionFieldsEqual(subscription, current.ToSubscription()))
            records.Add(new ConsumerGroupMemberMetadataRecord(groupId, memberId, subscription));

        // Working view of the members after this heartbeat (the group itself changes on replay).
        var working = new Dictionary<string, ConsumerGroupMember>(group.Members, StringComparer.Ordinal);
        if (replacedStatic is not null) working.Remove(replacedStatic.MemberId);
        var updated = new ConsumerGroupMember(memberId)
        {
            InstanceId = subscription.InstanceId, RackId = subscription.RackId, ClientId = subscription.ClientId,
            ClientHost = subscription.ClientHost, SubscribedTopicNames = subscription.SubscribedTopicNames,
            SubscribedTopicRegex = subscription.SubscribedTopicRegex, RebalanceTimeoutMs = subscription.RebalanceTimeoutMs,
            ServerAssignor = subscription.ServerAssignor, MemberEpoch = current.MemberEpoch,
            PreviousMemberEpoch = current.PreviousMemberEpoch, State = current.State,
            AssignedPartitions = current.AssignedPartitions, PartitionsPendingRevocation = current.PartitionsPendingRevocation,
        };
        working[memberId] = updated;

        // 3. Group epoch: bumped when a subscription or the subscribed topics' metadata changes.
        var subscribedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in working.Values) subscribedNames.UnionWith(group.SubscribedTopicNames(m, _metadata, Config.SubscriptionRegexTimeout));
        string fingerprint = ConsumerGroup.Fingerprint(subscribedNames, _metadata);
        bool metadataChanged = group.SubscriptionFingerprint is not null && group.SubscriptionFingerprint != fingerprint;
        int groupEpoch = group.GroupEpoch;
        if (subscriptionChanged || metadataChanged)
        {
            groupEpoch++;
            records.Add(new ConsumerGroupMetadataRecord(groupId, groupEpoch));
        }

        // 4. Target assignment.
        int assignmentEpoch = group.AssignmentEpoch;
        TopicPartitionSet target = group.TargetAssignment.GetValueOrDefault(replacedStatic?.MemberId ?? memberId) ?? TopicPartitionSet.Empty;
        if (groupEpoch > assignmentEpoch)
        {
            var assignorName = SelectAssignor(working.Values);
            var newTarget = ComputeTargetAssignment(group, working, assignorName);
            foreach (var (id, partitions) in newTarget)
            {
                var previous = group.TargetAssignment.GetValueOrDefault(id);
                if (previous is null || !previous.SetEquals(partitions))
                    records.Add(new ConsumerGroupTargetAssignmentMemberRecord(groupId, id, partitions));
            }
            records.Add(new ConsumerGroupTargetAssignmentMetadataRecord(groupId, groupEpoch));
            assignmentEpoch = groupEpoch;
            target = newTarget.GetValueOrDefault(memberId) ?? TopicPartitionSet.Empty;
        }

        // 5. Reconciliation.
        var next = Reconcile(group, updated, target, assignmentEpoch, ownedPartitions, replacedStatic?.MemberId,
            skipRevocationIfNotOwned: subscription.Classic is not null);
        if (isNew || replacedStatic is not null || !SameAssignmentState(next, current.ToAssignmentState()))
            records.Add(new ConsumerGroupCurrentMemberAssignmentRecord(groupId, memberId, next));

        return fingerprint;
    }

    private static bool SubscriptionFieldsEqual(ConsumerMemberSubscription a, ConsumerMemberSubscription b) =>
        a.InstanceId == b.InstanceId && a.RackId == b.RackId && a.ClientId == b.ClientId && a.ClientHost == b.ClientHost
        && a.SubscribedTopicNames.SequenceEqual(b.SubscribedTopicNames) && a.SubscribedTopicRegex == b.SubscribedTopicRegex
        && a.RebalanceTimeoutMs == b.RebalanceTimeoutMs && a.ServerAssignor == b.ServerAssignor
        && (a.Classic is null ? b.Classic is null : a.Classic.SameAs(b.Classic));

    private static bool SameAssignmentState(ConsumerMemberAssignmentState a, ConsumerMemberAssignmentState b) =>
        a.MemberEpoch == b.MemberEpoch && a.PreviousMemberEpoch == b.PreviousMemberEpoch && a.State == b.State
        && a.AssignedPartitions.SetEquals(b.AssignedPartitions) && a.PartitionsPendingRevocation.SetEquals(b.PartitionsPendingRevocation);

    /// <summary>Kafka generates a random Uuid string for members that do not bring their own (v0).</summary>
    private static string NewConsumerMemberId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private ConsumerGroupHeartbeatResult? ValidateConsumerHeartbeat(ConsumerGroupHeartbeatParams p)
    {
        static ConsumerGroupHeartbeatResult Invalid(string message) => new(ErrorCode.InvalidRequest, message);
        if (string.IsNullOrEmpty(p.GroupId)) return Invalid("GroupId can't be empty.");
        if (p.InstanceId is { Length: 0 }) return Invalid("InstanceId can't be empty.");
        if (p.RackId is { Length: 0 }) return Invalid("RackId can't be empty.");
        if (p.MemberEpoch != 0 && p.MemberId.Length == 0) return Invalid("MemberId can't be empty.");
        if (p.MemberEpoch == 0)
        {
            if (p.RebalanceTimeoutMs == -1) return Invalid("RebalanceTimeoutMs must be provided in first request.");
            if (p.OwnedPartitions is null || !p.OwnedPartitions.IsEmpty) return Invalid("TopicPartitions must be empty when (re-)joining.");
            if (p.SubscribedTopicNames is null && p.SubscribedTopicRegex is null)
                return Invalid("SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
        }
        else if (p.MemberEpoch == ConsumerGroupHeartbeatParams.LeaveGroupStaticMemberEpoch && p.InstanceId is null)
            return Invalid("InstanceId can't be null when leaving as a static member.");
        else if (p.MemberEpoch < ConsumerGroupHeartbeatParams.LeaveGroupStaticMemberEpoch)
            return Invalid($"MemberEpoch {p.MemberEpoch} is invalid.");
        if (p.ServerAssignor is not null && !Assignors.ContainsKey(p.ServerAssignor))
            return new ConsumerGroupHeartbeatResult(ErrorCode.UnsupportedAssignor, $"ServerAssignor {p.ServerAssignor} is not supported.");
        if (!string.IsNullOrEmpty(p.SubscribedTopicRegex))
        {
            try { ConsumerGroup.CompileSubscriptionRegex(p.SubscribedTopicRegex, Config.SubscriptionRegexTimeout); }
            catch (ArgumentException ex)
            {
                return new ConsumerGroupHeartbeatResult(ErrorCode.InvalidRegularExpression, $"SubscribedTopicRegex is invalid: {ex.Message}");
            }
        }
        return null;
    }

    private string SelectAssignor(IEnumerable<ConsumerGroupMember> members)
    {
        // Kafka uses the assignor most members ask for, else the first of group.consumer.assignors.
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in members)
            if (m.ServerAssignor is not null) votes[m.ServerAssignor] = votes.GetValueOrDefault(m.ServerAssignor) + 1;
        string? best = null;
        foreach (var (name, count) in votes)
            if (best is null || count > votes[best] || count == votes[best] && string.CompareOrdinal(name, best) < 0) best = name;
        return best ?? Config.GroupConsumerAssignors[0];
    }

    private IReadOnlyDictionary<string, TopicPartitionSet> ComputeTargetAssignment(ConsumerGroup group,
        Dictionary<string, ConsumerGroupMember> members, string assignorName)
    {
        var counts = new Dictionary<Guid, int>();
        var specMembers = new List<AssignmentMember>(members.Count);
        foreach (var m in members.Values)
        {
            var ids = new HashSet<Guid>();
            foreach (var name in group.SubscribedTopicNames(m, _metadata, Config.SubscriptionRegexTimeout))
            {
                if (_metadata.GetTopic(name) is not { } topic) continue;
                ids.Add(topic.TopicId);
                counts[topic.TopicId] = topic.PartitionCount;
            }
            specMembers.Add(new AssignmentMember(m.MemberId, m.RackId, ids));
        }
        var assignor = Assignors.GetValueOrDefault(assignorName) ?? Assignors[Config.GroupConsumerAssignors[0]];
        return assignor.Assign(new AssignmentSpec(specMembers, counts, group.TargetAssignment));
    }

    /// <summary>
    /// Kafka's CurrentAssignmentBuilder. A member first revokes what is no longer in its target
    /// (keeping its epoch until the client confirms); only then does it move to the target epoch
    /// and receive new partitions, and only those no other member still holds.
    /// </summary>
    internal static ConsumerMemberAssignmentState Reconcile(ConsumerGroup group, ConsumerGroupMember member,
        TopicPartitionSet target, int targetEpoch, TopicPartitionSet? ownedPartitions, string? previousOwnerId = null,
        bool skipRevocationIfNotOwned = false)
    {
        var assigned = member.AssignedPartitions;
        if (member.State == ConsumerMemberState.UnrevokedPartitions)
        {
            bool revoked = ownedPartitions is not null && ownedPartitions.Intersect(member.PartitionsPendingRevocation).IsEmpty;
            if (!revoked) return member.ToAssignmentState();
        }
        var kept = assigned.Intersect(target);
        var revoke = assigned.Except(target);
        // Kafka's ownsRevokedPartitions: a member that already reports not owning them (a classic
        // member rejoining after revoking) moves on at once. Used for classic members only.
        bool stillOwned = !skipRevocationIfNotOwned || ownedPartitions is null || !ownedPartitions.Intersect(revoke).IsEmpty;
        if (!revoke.IsEmpty && stillOwned)
            return new ConsumerMemberAssignmentState(member.MemberEpoch, member.PreviousMemberEpoch,
                ConsumerMemberState.UnrevokedPartitions, kept, revoke);
        var toAssign = target.Except(kept);
        var free = new List<(Guid, int)>();
        foreach (var (topicId, partition) in toAssign.All())
        {
            string? owner = group.OwnerOf(topicId, partition);
            if (owner is null || owner == member.MemberId || owner == previousOwnerId) free.Add((topicId, partition));
        }
        var newAssigned = kept.Union(TopicPartitionSet.From(free));
        var state = free.Count == toAssign.Count ? ConsumerMemberState.Stable : ConsumerMemberState.UnreleasedPartitions;
        int previousEpoch = member.MemberEpoch != targetEpoch ? member.MemberEpoch : member.PreviousMemberEpoch;
        return new ConsumerMemberAssignmentState(targetEpoch, previousEpoch, state, newAssigned, TopicPartitionSet.Empty);
    }

    private async ValueTask<ConsumerGroupHeartbeatResult> ConsumerGroupLeaveAsync(ConsumerGroupHeartbeatParams p)
    {
        if (FindGroup(p.GroupId) is not ConsumerGroup group)
            return new ConsumerGroupHeartbeatResult(ErrorCode.UnknownMemberId, $"Group {p.GroupId} not found.");
        string? memberId = group.Members.ContainsKey(p.MemberId) ? p.MemberId : group.StaticMemberId(p.InstanceId);
        if (memberId is null || !group.Members.TryGetValue(memberId, out var member))
            return new ConsumerGroupHeartbeatResult(ErrorCode.UnknownMemberId, $"Member {p.MemberId} is not in group {p.GroupId}.");
        var records = new List<GroupRecord>();
        if (p.MemberEpoch == ConsumerGroupHeartbeatParams.LeaveGroupStaticMemberEpoch)
        {
            // A static member leaving temporarily keeps its assignment until its session expires.
            records.Add(new ConsumerGroupCurrentMemberAssignmentRecord(p.GroupId, memberId, new ConsumerMemberAssignmentState(
                ConsumerGroupHeartbeatParams.LeaveGroupStaticMemberEpoch, member.MemberEpoch, member.State,
                member.AssignedPartitions, member.PartitionsPendingRevocation)));
            var staticError = await AppendAsync(records).ConfigureAwait(false);
            if (staticError != ErrorCode.None) return new ConsumerGroupHeartbeatResult(staticError);
            ScheduleConsumerSessionTimeout(p.GroupId, memberId);
            return new ConsumerGroupHeartbeatResult(ErrorCode.None, null, memberId, ConsumerGroupHeartbeatParams.LeaveGroupStaticMemberEpoch,
                Config.GroupConsumerHeartbeatIntervalMs);
        }
        var error = await FenceConsumerMemberAsync(group, memberId, "member left the group").ConfigureAwait(false);
        if (error != ErrorCode.None) return new ConsumerGroupHeartbeatResult(error);
        return new ConsumerGroupHeartbeatResult(ErrorCode.None, null, memberId, ConsumerGroupHeartbeatParams.LeaveGroupMemberEpoch,
            Config.GroupConsumerHeartbeatIntervalMs);
    }

    private static void AddMemberRemovalRecords(ConsumerGroup group, string memberId, List<GroupRecord> records)
    {
        records.Add(new ConsumerGroupCurrentMemberAssignmentRecord(group.GroupId, memberId, null));
        if (group.TargetAssignment.ContainsKey(memberId))
            records.Add(new ConsumerGroupTargetAssignmentMemberRecord(group.GroupId, memberId, null));
        records.Add(new ConsumerGroupMemberMetadataRecord(group.GroupId, memberId, null));
    }

    /// <summary>Removes a member (left, session expired or failed to revoke in time) and bumps the group epoch;
    /// converts the group back to classic instead when only classic members would remain.</summary>
    private async ValueTask<ErrorCode> FenceConsumerMemberAsync(ConsumerGroup group, string memberId, string reason)
    {
        if (CanDowngradeWithout(group, memberId))
            return await DowngradeToClassicGroupAsync(group, memberId, reason).ConfigureAwait(false);
        var records = new List<GroupRecord>();
        AddMemberRemovalRecords(group, memberId, records);
        records.Add(new ConsumerGroupMetadataRecord(group.GroupId, group.GroupEpoch + 1));
        var error = await AppendAsync(records).ConfigureAwait(false);
        if (error == ErrorCode.None)
        {
            CancelConsumerMemberTimers(group.GroupId, memberId);
            _logger.LogInformation("Consumer group {Group}: member {Member} removed ({Reason})", group.GroupId, memberId, reason);
        }
        return error;
    }

    /// <summary>Classic members of a consumer group pass their own (JoinGroup) session timeout.</summary>
    private void ScheduleConsumerSessionTimeout(string groupId, string memberId, int? sessionTimeoutMs = null) =>
        Timer.Schedule(ConsumerSessionKey(groupId, memberId), sessionTimeoutMs ?? Config.GroupConsumerSessionTimeoutMs, async () =>
        {
            if (FindGroup(groupId) is ConsumerGroup group && group.Members.ContainsKey(memberId))
                await FenceConsumerMemberAsync(group, memberId, "session timeout").ConfigureAwait(false);
        });

    private void ScheduleConsumerRebalanceTimeout(string groupId, string memberId, int rebalanceTimeoutMs, int memberEpoch) =>
        Timer.Schedule(ConsumerRebalanceKey(groupId, memberId), Math.Max(rebalanceTimeoutMs, 1), async () =>
        {
            if (FindGroup(groupId) is ConsumerGroup group && group.Members.TryGetValue(memberId, out var member)
                && member.State == ConsumerMemberState.UnrevokedPartitions && member.MemberEpoch == memberEpoch)
                await FenceConsumerMemberAsync(group, memberId, "partitions not revoked within the rebalance timeout").ConfigureAwait(false);
        });

    private async ValueTask DeleteEmptyConsumerGroupAsync(ConsumerGroup group)
    {
        var records = new List<GroupRecord>();
        group.AddDeletionRecords(records);
        await AppendAsync(records).ConfigureAwait(false);
    }

    private ConsumerGroup? GetOrCreateConsumerGroupForReplay(string groupId, bool create)
    {
        if (_groups.TryGetValue(groupId, out var existing))
        {
            if (existing is ConsumerGroup consumer) return consumer;
            if (!create || !existing.IsEmpty) return null;
        }
        else if (!create) return null;
        var group = new ConsumerGroup(groupId);
        _groups[groupId] = group;
        return group;
    }

    private void ReplayConsumerGroupMetadata(ConsumerGroupMetadataRecord record)
    {
        if (record.Epoch is null)
        {
            if (_groups.TryGetValue(record.GroupId, out var existing) && existing is ConsumerGroup consumer)
            {
                consumer.ReplayGroupMetadata(null);
                _groups.Remove(record.GroupId);
            }
            return;
        }
        GetOrCreateConsumerGroupForReplay(record.GroupId, true)?.ReplayGroupMetadata(record.Epoch);
    }

    internal DescribedConsumerGroup DescribeConsumerGroup(string groupId)
    {
        if (FindGroup(groupId) is not ConsumerGroup group)
            return new DescribedConsumerGroup(ErrorCode.GroupIdNotFound, $"Group {groupId} not found.", groupId, "Dead", 0, 0, string.Empty,
                Array.Empty<DescribedConsumerGroupMember>());
        var members = new List<DescribedConsumerGroupMember>(group.Members.Count);
        foreach (var m in group.Members.Values)
            members.Add(new DescribedConsumerGroupMember(m.MemberId, m.InstanceId, m.RackId, m.MemberEpoch, m.ClientId, m.ClientHost,
                m.SubscribedTopicNames, m.SubscribedTopicRegex, m.AssignedPartitions,
                group.TargetAssignment.GetValueOrDefault(m.MemberId) ?? TopicPartitionSet.Empty));
        return new DescribedConsumerGroup(ErrorCode.None, null, groupId, group.StateName, group.GroupEpoch, group.AssignmentEpoch,
            SelectAssignor(group.Members.Values), members);
    }
}
