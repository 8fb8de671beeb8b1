using Broker.Protocol;
using Microsoft.Extensions.Logging;

namespace Broker.Coordinator.Group;

// The classic rebalance protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), following Kafka's
// GroupMetadataManager classic-group paths: KIP-394 (member id required), KIP-345 (static
// membership), KIP-814 (skip assignment for a rejoining static leader), and the
// group.initial.rebalance.delay.ms delayed first join.
public sealed partial class GroupCoordinatorShard
{
    private static string JoinKey(string groupId) => "join-" + groupId;
    private static string SyncKey(string groupId) => "sync-" + groupId;
    private static string HeartbeatKey(string groupId, string memberId) => "heartbeat-" + groupId + "-" + memberId;

    // ----- JoinGroup ------------------------------------------------------------------------

    /// <summary>Runs on the executor; the returned task completes when the member's join phase completes.</summary>
    internal async ValueTask<Task<JoinGroupResult>> ClassicJoinAsync(JoinGroupParams p)
    {
        if (string.IsNullOrEmpty(p.GroupId)) return Done(JoinGroupResult.Failed(ErrorCode.InvalidGroupId, p.MemberId));
        if (p.SessionTimeoutMs < Config.GroupMinSessionTimeoutMs || p.SessionTimeoutMs > Config.GroupMaxSessionTimeoutMs)
            return Done(JoinGroupResult.Failed(ErrorCode.InvalidSessionTimeout, p.MemberId));

        bool isUnknownMember = p.MemberId.Length == 0;
        var existing = FindGroup(p.GroupId);
        if (existing is ConsumerGroup consumerGroup)
        {
            // A consumer group with members takes classic members (KIP-848 online migration).
            if (!consumerGroup.IsEmpty) return Done(await ClassicJoinToConsumerGroupAsync(consumerGroup, p).ConfigureAwait(false));
            await DeleteEmptyConsumerGroupAsync(consumerGroup).ConfigureAwait(false);
            existing = null;
        }
        if (existing is null && !isUnknownMember) return Done(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, p.MemberId));
        var group = (ClassicGroup?)existing;
        bool created = false;
        if (group is null)
        {
            group = new ClassicGroup(p.GroupId, NowMs);
            _groups[p.GroupId] = group;
            created = true;
        }

        var error = ValidateJoin(group, p, isUnknownMember);
        if (error != ErrorCode.None)
        {
            if (created) _groups.Remove(p.GroupId);
            return Done(JoinGroupResult.Failed(error, p.MemberId));
        }

        if (isUnknownMember)
        {
            string newMemberId = p.ClientId + "-" + Guid.NewGuid().ToString();
            if (p.GroupInstanceId is not null)
            {
                string? oldMemberId = group.StaticMemberId(p.GroupInstanceId);
                return oldMemberId is null
                    ? AddMemberThenRebalance(group, newMemberId, p)
                    : await ReplaceStaticMemberAsync(group, oldMemberId, newMemberId, p).ConfigureAwait(false);
            }
            if (p.RequireKnownMemberId)
            {
                // KIP-394: hand out the id and wait for the member to come back with it; a member
                // that never does is forgotten after its session timeout.
                group.PendingMembers.Add(newMemberId);
                Timer.Schedule(HeartbeatKey(group.GroupId, newMemberId), p.SessionTimeoutMs,
                    () => OnPendingMemberExpiredAsync(group.GroupId, newMemberId));
                return Done(JoinGroupResult.Failed(ErrorCode.MemberIdRequired, newMemberId));
            }
            return AddMemberThenRebalance(group, newMemberId, p);
        }

        if (group.PendingMembers.Remove(p.MemberId))
        {
            Timer.Cancel(HeartbeatKey(group.GroupId, p.MemberId));
            return AddMemberThenRebalance(group, p.MemberId, p);
        }

        var member = group.Get(p.MemberId)!;
        switch (group.State)
        {
            case ClassicGroupState.PreparingRebalance:
                return UpdateMemberThenRebalance(group, member, p);
            case ClassicGroupState.CompletingRebalance:
                // A retried join (e.g. the response was lost) gets the current generation again.
                return member.SameProtocols(p.Protocols)
                    ? Done(CurrentGenerationJoinResult(group, member.MemberId, includeMembers: group.IsLeader(member.MemberId)))
                    : UpdateMemberThenRebalance(group, member, p);
            case ClassicGroupState.Stable:
                // The leader may rejoin to force a rebalance (e.g. topic metadata changed).
                return group.IsLeader(member.MemberId) || !member.SameProtocols(p.Protocols)
                    ? UpdateMemberThenRebalance(group, member, p)
                    : Done(CurrentGenerationJoinResult(group, member.MemberId, includeMembers: false));
            default:
                return Done(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, p.MemberId));
        }
    }

    private ErrorCode ValidateJoin(ClassicGroup group, JoinGroupParams p, bool isUnknownMember)
    {
        if (group.State == ClassicGroupState.Dead) return ErrorCode.CoordinatorNotAvailable;
        if (!isUnknownMember)
        {
            if (p.GroupInstanceId is not null)
            {
                string? staticId = group.StaticMemberId(p.GroupInstanceId);
                if (staticId is not null && staticId != p.MemberId) return ErrorCode.FencedInstanceId;
            }
            if (!group.Has(p.MemberId) && !group.PendingMembers.Contains(p.MemberId)) return ErrorCode.UnknownMemberId;
        }
        bool joiningAnew = isUnknownMember
            ? group.StaticMemberId(p.GroupInstanceId) is null
            : group.PendingMembers.Contains(p.MemberId);
        if (joiningAnew && group.MemberCount >= Config.GroupMaxSize) return ErrorCode.GroupMaxSizeReached;
        if (!group.SupportsProtocols(p.ProtocolType, p.Protocols)) return ErrorCode.InconsistentGroupProtocol;
        return ErrorCode.None;
    }

    private static Task<JoinGroupResult> Done(JoinGroupResult result) => Task.FromResult(result);

    private JoinGroupResult CurrentGenerationJoinResult(ClassicGroup group, string memberId, bool includeMembers, bool skipAssignment = false)
    {
        List<(string, string?, byte[])>? members = null;
        if (includeMembers && group.ProtocolName is not null)
        {
            members = new List<(string, string?, byte[])>(group.MemberCount);
            foreach (var m in group.Members)
                members.Add((m.MemberId, m.GroupInstanceId, m.MetadataFor(group.ProtocolName) ?? Array.Empty<byte>()));
        }
        return new JoinGroupResult(ErrorCode.None, group.GenerationId, group.ProtocolTypeOrNull, group.ProtocolName,
            group.LeaderId ?? string.Empty, memberId, skipAssignment, members ?? new List<(string, string?, byte[])>());
    }

    private Task<JoinGroupResult> AddMemberThenRebalance(ClassicGroup group, string memberId, JoinGroupParams p)
    {
        var member = new ClassicGroupMember
        {
            MemberId = memberId,
            GroupInstanceId = p.GroupInstanceId,
            ClientId = p.ClientId,
            ClientHost = p.ClientHost,
            RebalanceTimeoutMs = p.RebalanceTimeoutMs,
            SessionTimeoutMs = p.SessionTimeoutMs,
            ProtocolType = p.ProtocolType,
            Protocols = p.Protocols,
            IsNew = true,
            AwaitingJoin = NewJoinWaiter(),
        };
        group.Add(member);
        if (group.State == ClassicGroupState.PreparingRebalance && group.InitialDelayActive)
            group.NewMemberAdded = true;
        // A new member cannot heartbeat until its join completes and a disconnect is invisible
        // while the request is parked, so Kafka bounds the wait by the new-member join timeout.
        RescheduleHeartbeat(group, member, Config.ClassicNewMemberJoinTimeoutMs);
        MaybePrepareRebalanceOrCompleteJoin(group, "member " + memberId + " joined");
        return member.AwaitingJoin.Task;
    }

    private Task<JoinGroupResult> UpdateMemberThenRebalance(ClassicGroup group, ClassicGroupMember member, JoinGroupParams p)
    {
        member.Protocols = p.Protocols;
        member.RebalanceTimeoutMs = p.RebalanceTimeoutMs;
        member.SessionTimeoutMs = p.SessionTimeoutMs;
        member.ClientId = p.ClientId;
        member.ClientHost = p.ClientHost;
        // Only one JoinGroup per member is outstanding in a live client; an older one is stale.
        member.CompleteJoin(JoinGroupResult.Failed(ErrorCode.RebalanceInProgress, member.MemberId));
        member.AwaitingJoin = NewJoinWaiter();
        var waiter = member.AwaitingJoin;
        MaybePrepareRebalanceOrCompleteJoin(group, "member " + member.MemberId + " rejoined");
        return waiter.Task;
    }

    private static TaskCompletionSource<JoinGroupResult> NewJoinWaiter() =>
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>KIP-345: a static member restarted (empty member id, known instance id).</summary>
    private async ValueTask<Task<JoinGroupResult>> ReplaceStaticMemberAsync(ClassicGroup group, string oldMemberId, string newMemberId, JoinGroupParams p)
    {
        var old = group.Get(oldMemberId)!;
        // The previous incarnation is fenced: anything it still waits for fails.
        old.CompleteJoin(JoinGroupResult.Failed(ErrorCode.FencedInstanceId, oldMemberId));
        old.CompleteSync(SyncGroupResult.Failed(ErrorCode.FencedInstanceId));
        Timer.Cancel(HeartbeatKey(group.GroupId, oldMemberId));
        var oldProtocols = old.Protocols;
        var member = group.ReplaceStaticMember(p.GroupInstanceId!, oldMemberId, newMemberId);
        member.ClientId = p.ClientId;
        member.ClientHost = p.ClientHost;

        switch (group.State)
        {
            case ClassicGroupState.Stable:
            {
                member.Protocols = p.Protocols;
                member.RebalanceTimeoutMs = p.RebalanceTimeoutMs;
                member.SessionTimeoutMs = p.SessionTimeoutMs;
                string? current = group.ProtocolName;
                if (current is null || !group.SupportsProtocols(p.ProtocolType, p.Protocols) || group.SelectProtocol() != current)
                {
                    member.AwaitingJoin = NewJoinWaiter();
                    var waiter = member.AwaitingJoin;
                    PrepareRebalance(group, "static member " + p.GroupInstanceId + " rejoined with different protocols");
                    return waiter.Task;
                }
                // Same protocol: no rebalance. Persist the new member id so a coordinator move keeps it.
                var error = await AppendAsync(new List<GroupRecord> { new ClassicGroupRecord(group.GroupId, group.ToSnapshot()) }).ConfigureAwait(false);
                if (error != ErrorCode.None)
                {
                    // Undo the replacement, as Kafka does, so the old incarnation's id stays valid.
                    group.ReplaceStaticMember(p.GroupInstanceId!, newMemberId, oldMemberId);
                    old.Protocols = oldProtocols;
                    RescheduleHeartbeat(group, old, old.SessionTimeoutMs);
                    return Done(JoinGroupResult.Failed(error, string.Empty));
                }
                RescheduleHeartbeat(group, member, member.SessionTimeoutMs);
                bool isLeader = group.IsLeader(newMemberId);
                return Done(CurrentGenerationJoinResult(group, newMemberId, includeMembers: isLeader,
                    skipAssignment: isLeader && p.SupportSkippingAssignment));
            }
            case ClassicGroupState.CompletingRebalance:
            case ClassicGroupState.PreparingRebalance:
                return UpdateMemberThenRebalance(group, member, p);
            default:
                return Done(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, newMemberId));
        }
    }

    private void MaybePrepareRebalanceOrCompleteJoin(ClassicGroup group, string reason)
    {
        if (group.State is ClassicGroupState.Stable or ClassicGroupState.CompletingRebalance or ClassicGroupState.Empty)
            PrepareRebalance(group, reason);
        else if (group.State == ClassicGroupState.PreparingRebalance)
            MaybeCompleteJoinPhase(group);
    }

    private void PrepareRebalance(ClassicGroup group, string reason)
    {
        if (group.State == ClassicGroupState.CompletingRebalance)
        {
            // Members waiting for the old generation's assignment must rejoin.
            foreach (var member in group.Members)
            {
                member.Assignment = Array.Empty<byte>();
                member.CompleteSync(SyncGroupResult.Failed(ErrorCode.RebalanceInProgress));
            }
        }
        Timer.Cancel(SyncKey(group.GroupId));
        bool isInitialRebalance = group.State == ClassicGroupState.Empty;
        group.TransitionTo(ClassicGroupState.PreparingRebalance, NowMs);
        _logger.LogInformation("Preparing to rebalance group {Group} (generation {Generation}): {Reason}",
            group.GroupId, group.GenerationId, reason);
        if (isInitialRebalance)
        {
            // group.initial.rebalance.delay.ms: the first rebalance of an empty group waits for more
            // members, extended while they keep arriving, up to the rebalance timeout.
            int delayMs = Config.GroupInitialRebalanceDelayMs;
            int remainingMs = Math.Max(group.RebalanceTimeoutMs - delayMs, 0);
            group.InitialDelayActive = true;
            group.NewMemberAdded = false;
            ScheduleInitialJoin(group.GroupId, delayMs, remainingMs);
        }
        else
        {
            MaybeCompleteJoinPhase(group);
        }
    }

    private void ScheduleInitialJoin(string groupId, int delayMs, int remainingMs) =>
        Timer.Schedule(JoinKey(groupId), delayMs, async () =>
        {
            if (FindGroup(groupId) is not ClassicGroup group || group.State != ClassicGroupState.PreparingRebalance) return;
            if (group.NewMemberAdded && remainingMs > 0)
            {
                group.NewMemberAdded = false;
                int nextDelay = Math.Min(Config.GroupInitialRebalanceDelayMs, remainingMs);
                ScheduleInitialJoin(groupId, nextDelay, Math.Max(remainingMs - nextDelay, 0));
                return;
            }
            group.InitialDelayActive = false;
            await CompleteJoinAsync(group).ConfigureAwait(false);
        });

    private void MaybeCompleteJoinPhase(ClassicGroup group)
    {
        if (group.State != ClassicGroupState.PreparingRebalance || group.InitialDelayActive) return;
        if (group.HasAllMembersJoined())
        {
            // Complete on the executor right after the current operation (same as a zero-delay timer).
            Timer.Schedule(JoinKey(group.GroupId), 0, () => CompleteJoinAsync(group));
        }
        else if (!Timer.IsScheduled(JoinKey(group.GroupId)))
        {
            Timer.Schedule(JoinKey(group.GroupId), Math.Max(group.RebalanceTimeoutMs, 1), () => CompleteJoinAsync(group));
        }
    }

    /// <summary>Kafka's completeClassicGroupJoin: drop members that did not rejoin, start the next generation.</summary>
    private async ValueTask CompleteJoinAsync(ClassicGroup group)
    {
        if (group.State != ClassicGroupState.PreparingRebalance || !ReferenceEquals(FindGroup(group.GroupId), group)) return;
        Timer.Cancel(JoinKey(group.GroupId));
        group.InitialDelayActive = false;

        var notRejoined = new List<ClassicGroupMember>();
        foreach (var member in group.Members)
            if (!member.IsAwaitingJoin) notRejoined.Add(member);
        foreach (var member in notRejoined)
        {
            _logger.LogInformation("Group {Group}: member {Member} did not rejoin in time and is removed", group.GroupId, member.MemberId);
            Timer.Cancel(HeartbeatKey(group.GroupId, member.MemberId));
            member.CompleteSync(SyncGroupResult.Failed(ErrorCode.UnknownMemberId));
            group.Remove(member.MemberId);
        }

        group.InitNextGeneration(NowMs);
        if (group.State == ClassicGroupState.Empty)
        {
            _logger.LogInformation("Group {Group} is empty at generation {Generation}", group.GroupId, group.GenerationId);
            await AppendAsync(new List<GroupRecord> { new ClassicGroupRecord(group.GroupId, group.ToSnapshot()) }).ConfigureAwait(false);
            return;
        }

        _logger.LogInformation("Group {Group} completed join: generation {Generation}, protocol {Protocol}, {Members} members",
            group.GroupId, group.GenerationId, group.ProtocolName, group.MemberCount);
        foreach (var member in group.Members)
        {
            var result = CurrentGenerationJoinResult(group, member.MemberId, includeMembers: group.IsLeader(member.MemberId));
            member.IsNew = false;
            member.CompleteJoin(result);
            RescheduleHeartbeat(group, member, member.SessionTimeoutMs);
        }
        SchedulePendingSync(group);
    }

    /// <summary>Members that do not send SyncGroup within the rebalance timeout are removed (Kafka's pending sync).</summary>
    private void SchedulePendingSync(ClassicGroup group)
    {
        int generation = group.GenerationId;
        Timer.Schedule(SyncKey(group.GroupId), Math.Max(group.RebalanceTimeoutMs, 1), () =>
        {
            if (FindGroup(group.GroupId) is not ClassicGroup g || g.GenerationId != generation) return ValueTask.CompletedTask;
            if (g.State is not (ClassicGroupState.CompletingRebalance or ClassicGroupState.Stable) || g.PendingSyncMembers.Count == 0)
                return ValueTask.CompletedTask;
            foreach (var memberId in g.PendingSyncMembers.ToList())
            {
                var member = g.Get(memberId);
                if (member is null) continue;
                Timer.Cancel(HeartbeatKey(g.GroupId, memberId));
                member.CompleteSync(SyncGroupResult.Failed(ErrorCode.UnknownMemberId));
                g.Remove(memberId);
            }
            g.PendingSyncMembers.Clear();
            PrepareRebalance(g, "members failed to sync within the rebalance timeout");
            return ValueTask.CompletedTask;
        });
    }

    // ----- SyncGroup ------------------------------------------------------------------------

    internal async ValueTask<Task<SyncGroupResult>> ClassicSyncAsync(SyncGroupParams p)
    {
        if (FindGroup(p.GroupId) is ConsumerGroup consumerGroup) return Task.FromResult(ClassicSyncToConsumerGroup(consumerGroup, p));
        if (FindGroup(p.GroupId) is not ClassicGroup group) return Task.FromResult(SyncGroupResult.Failed(ErrorCode.UnknownMemberId));
        var error = ValidateMember(group, p.MemberId, p.GroupInstanceId, p.GenerationId);
        if (error == ErrorCode.None && (p.ProtocolType is not null && p.ProtocolType != group.ProtocolTypeOrNull
                                        || p.ProtocolName is not null && p.ProtocolName != group.ProtocolName))
            error = ErrorCode.InconsistentGroupProtocol;
        if (error != ErrorCode.None) return Task.FromResult(SyncGroupResult.Failed(error));

        var member = group.Get(p.MemberId)!;
        switch (group.State)
        {
            case ClassicGroupState.PreparingRebalance:
                return Task.FromResult(SyncGroupResult.Failed(ErrorCode.RebalanceInProgress));
            case ClassicGroupState.Stable:
                group.PendingSyncMembers.Remove(member.MemberId);
                RescheduleHeartbeat(group, member, member.SessionTimeoutMs);
                return Task.FromResult(new SyncGroupResult(ErrorCode.None, group.ProtocolTypeOrNull, group.ProtocolName, member.Assignment));
            case ClassicGroupState.CompletingRebalance:
                break;
            default:
                return Task.FromResult(SyncGroupResult.Failed(ErrorCode.UnknownMemberId));
        }

        member.CompleteSync(SyncGroupResult.Failed(ErrorCode.RebalanceInProgress));
        member.AwaitingSync = new TaskCompletionSource<SyncGroupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = member.AwaitingSync;
        group.PendingSyncMembers.Remove(member.MemberId);
        RescheduleHeartbeat(group, member, member.SessionTimeoutMs);
        if (!group.IsLeader(member.MemberId)) return waiter.Task;

        // The leader's assignment: store it, then release every waiting member (Kafka writes the
        // GroupMetadata record first so the assignment survives a coordinator move).
        var assignments = new Dictionary<string, byte[]>();
        foreach (var (memberId, assignment) in p.Assignments)
            if (group.Has(memberId)) assignments[memberId] = assignment;
        int generation = group.GenerationId;
        var appendError = await AppendAsync(new List<GroupRecord> { new ClassicGroupRecord(group.GroupId, group.ToSnapshot(assignments)) })
            .ConfigureAwait(false);
        if (group.State != ClassicGroupState.CompletingRebalance || group.GenerationId != generation)
            return waiter.Task; // a rebalance started meanwhile; waiters were already told
        if (appendError != ErrorCode.None)
        {
            foreach (var m in group.Members) m.CompleteSync(SyncGroupResult.Failed(appendError));
            PrepareRebalance(group, "storing the assignment failed: " + appendError);
            return waiter.Task;
        }
        foreach (var m in group.Members)
        {
            m.Assignment = assignments.GetValueOrDefault(m.MemberId) ?? Array.Empty<byte>();
            m.CompleteSync(new SyncGroupResult(ErrorCode.None, group.ProtocolTypeOrNull, group.ProtocolName, m.Assignment));
        }
        group.TransitionTo(ClassicGroupState.Stable, NowMs);
        _logger.LogInformation("Group {Group} is stable at generation {Generation}", group.GroupId, generation);
        return waiter.Task;
    }

    /// <summary>Member, static instance and generation checks shared by SyncGroup, Heartbeat and OffsetCommit.</summary>
    private static ErrorCode ValidateMember(ClassicGroup group, string memberId, string? groupInstanceId, int generationId)
    {
        if (group.State == ClassicGroupState.Dead) return ErrorCode.CoordinatorNotAvailable;
        if (groupInstanceId is not null)
        {
            string? staticId = group.StaticMemberId(groupInstanceId);
            if (staticId is not null && staticId != memberId) return ErrorCode.FencedInstanceId;
        }
        if (!group.Has(memberId)) return ErrorCode.UnknownMemberId;
        if (generationId != group.GenerationId) return ErrorCode.IllegalGeneration;
        return ErrorCode.None;
    }

    // ----- Heartbeat -------------------------------------------------------------------------

    internal ValueTask<ErrorCode> ClassicHeartbeatAsync(HeartbeatParams p)
    {
        if (FindGroup(p.GroupId) is ConsumerGroup consumerGroup) return ValueTask.FromResult(ClassicHeartbeatToConsumerGroup(consumerGroup, p));
        if (FindGroup(p.GroupId) is not ClassicGroup group) return ValueTask.FromResult(ErrorCode.UnknownMemberId);
        var error = ValidateMember(group, p.MemberId, p.GroupInstanceId, p.GenerationId);
        if (error != ErrorCode.None) return ValueTask.FromResult(error);
        var member = group.Get(p.MemberId)!;
        switch (group.State)
        {
            case ClassicGroupState.Empty:
                return ValueTask.FromResult(ErrorCode.UnknownMemberId);
            case ClassicGroupState.PreparingRebalance:
                RescheduleHeartbeat(group, member, member.SessionTimeoutMs);
                return ValueTask.FromResult(ErrorCode.RebalanceInProgress);
            default:
                RescheduleHeartbeat(group, member, member.SessionTimeoutMs);
                return ValueTask.FromResult(ErrorCode.None);
        }
    }

    private void RescheduleHeartbeat(ClassicGroup group, ClassicGroupMember member, int timeoutMs)
    {
        string groupId = group.GroupId, memberId = member.MemberId;
        Timer.Schedule(HeartbeatKey(groupId, memberId), timeoutMs, () => OnHeartbeatExpiredAsync(groupId, memberId));
    }

    private ValueTask OnHeartbeatExpiredAsync(string groupId, string memberId)
    {
        if (FindGroup(groupId) is not ClassicGroup group || group.Get(memberId) is not { } member) return ValueTask.CompletedTask;
        if (member.IsAwaitingJoin && !member.IsNew && group.State == ClassicGroupState.PreparingRebalance)
            return ValueTask.CompletedTask; // bounded by the rebalance timeout instead
        _logger.LogInformation("Group {Group}: member {Member} session expired", groupId, memberId);
        return RemoveMemberAndUpdateGroupAsync(group, member, "session timeout");
    }

    private ValueTask OnPendingMemberExpiredAsync(string groupId, string memberId)
    {
        if (FindGroup(groupId) is ClassicGroup group && group.PendingMembers.Remove(memberId))
        {
            MaybeCompleteJoinPhase(group);
            RemoveGroupIfEmptyAndNoOffsets(groupId);
        }
        return ValueTask.CompletedTask;
    }

    private ValueTask RemoveMemberAndUpdateGroupAsync(ClassicGroup group, ClassicGroupMember member, string reason)
    {
        // A parked JoinGroup must get an answer: UNKNOWN_MEMBER_ID makes a live client rejoin.
        member.CompleteJoin(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, member.MemberId));
        member.CompleteSync(SyncGroupResult.Failed(ErrorCode.UnknownMemberId));
        Timer.Cancel(HeartbeatKey(group.GroupId, member.MemberId));
        group.Remove(member.MemberId);
        switch (group.State)
        {
            case ClassicGroupState.Stable:
            case ClassicGroupState.CompletingRebalance:
                PrepareRebalance(group, $"removing member {member.MemberId}: {reason}");
                break;
            case ClassicGroupState.PreparingRebalance:
                MaybeCompleteJoinPhase(group);
                break;
        }
        return ValueTask.CompletedTask;
    }

    // ----- LeaveGroup ------------------------------------------------------------------------

    internal async ValueTask<LeaveGroupResult> ClassicLeaveAsync(string groupId, IReadOnlyList<LeaveGroupMember> leaving)
    {
        if (FindGroup(groupId) is ConsumerGroup) return await ClassicLeaveConsumerGroupAsync(groupId, leaving).ConfigureAwait(false);
        if (FindGroup(groupId) is not ClassicGroup group)
            return new LeaveGroupResult(ErrorCode.UnknownMemberId, Array.Empty<(string, string?, ErrorCode)>());
        if (group.State == ClassicGroupState.Dead)
            return new LeaveGroupResult(ErrorCode.CoordinatorNotAvailable, Array.Empty<(string, string?, ErrorCode)>());
        var results = new List<(string, string?, ErrorCode)>(leaving.Count);
        foreach (var l in leaving)
        {
            ErrorCode error = ErrorCode.None;
            ClassicGroupMember? member = null;
            if (l.GroupInstanceId is not null)
            {
                string? staticId = group.StaticMemberId(l.GroupInstanceId);
                if (staticId is null) error = ErrorCode.UnknownMemberId;
                else if (l.MemberId.Length > 0 && l.MemberId != staticId) error = ErrorCode.FencedInstanceId;
                else member = group.Get(staticId);
            }
            else if (group.PendingMembers.Remove(l.MemberId))
            {
                Timer.Cancel(HeartbeatKey(group.GroupId, l.MemberId));
                MaybeCompleteJoinPhase(group);
            }
            else
            {
                member = group.Get(l.MemberId);
                if (member is null) error = ErrorCode.UnknownMemberId;
            }
            if (member is not null)
            {
                _logger.LogInformation("Group {Group}: member {Member} left ({Reason})", groupId, member.MemberId, l.Reason ?? "no reason");
                await RemoveMemberAndUpdateGroupAsync(group, member, "member left the group").ConfigureAwait(false);
            }
            results.Add((l.MemberId, l.GroupInstanceId, error));
        }
        return new LeaveGroupResult(ErrorCode.None, results);
    }
}
