using Broker.Protocol;

namespace Broker.Coordinator.Group;

/// <summary>Kafka's ClassicGroupState; the names are what DescribeGroups and ListGroups report.</summary>
public enum ClassicGroupState { Empty, PreparingRebalance, CompletingRebalance, Stable, Dead }

public abstract class GroupBase(string groupId)
{
    public string GroupId { get; } = groupId;
    /// <summary>"classic" or "consumer" as ListGroups v5 reports it.</summary>
    public abstract string GroupType { get; }
    public abstract string StateName { get; }
    public abstract bool IsEmpty { get; }
    /// <summary>The protocol type ListGroups reports ("consumer" for KIP-848 groups).</summary>
    public abstract string ProtocolType { get; }
}

public sealed class ClassicGroupMember
{
    public required string MemberId { get; set; }
    public string? GroupInstanceId { get; init; }
    public required string ClientId { get; set; }
    public required string ClientHost { get; set; }
    public int RebalanceTimeoutMs { get; set; }
    public int SessionTimeoutMs { get; set; }
    public required string ProtocolType { get; set; }
    /// <summary>The member's protocols in its order of preference (name, metadata).</summary>
    public required List<(string Name, byte[] Metadata)> Protocols { get; set; }
    public byte[] Assignment { get; set; } = Array.Empty<byte>();
    /// <summary>Joined with an empty member id and has not completed a join yet (Kafka's isNew).</summary>
    public bool IsNew { get; set; }
    public TaskCompletionSource<JoinGroupResult>? AwaitingJoin { get; set; }
    public TaskCompletionSource<SyncGroupResult>? AwaitingSync { get; set; }
    public bool IsAwaitingJoin => AwaitingJoin is not null;
    public bool IsAwaitingSync => AwaitingSync is not null;

    public byte[]? MetadataFor(string protocol)
    {
        foreach (var (name, metadata) in Protocols)
            if (name == protocol) return metadata;
        return null;
    }

    public bool SameProtocols(List<(string Name, byte[] Metadata)> protocols)
    {
        if (protocols.Count != Protocols.Count) return false;
        for (int i = 0; i < protocols.Count; i++)
        {
            if (protocols[i].Name != Protocols[i].Name || !protocols[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata))
                return false;
        }
        return true;
    }

    public void CompleteJoin(JoinGroupResult result)
    {
        var waiter = AwaitingJoin;
        AwaitingJoin = null;
        waiter?.TrySetResult(result);
    }

    public void CompleteSync(SyncGroupResult result)
    {
        var waiter = AwaitingSync;
        AwaitingSync = null;
        waiter?.TrySetResult(result);
    }
}

/// <summary>
/// A group using the classic protocol (JoinGroup/SyncGroup/Heartbeat), Kafka's ClassicGroup.
/// Membership during a rebalance is in memory, as in Kafka; the group's persisted state (a
/// GroupMetadataValue) is written when a generation's assignment is stored or the group empties,
/// and loading replays that record into a Stable (or Empty) group whose members must heartbeat.
/// </summary>
public sealed class ClassicGroup(string groupId, long nowMs) : GroupBase(groupId)
{
    private readonly OrderedDictionary<string, ClassicGroupMember> _members = new();
    private readonly Dictionary<string, string> _staticMembers = new();

    public ClassicGroupState State { get; private set; } = ClassicGroupState.Empty;
    public ClassicGroupState PreviousState { get; private set; } = ClassicGroupState.Empty;
    public long CurrentStateTimestampMs { get; private set; } = nowMs;
    public int GenerationId { get; set; }
    public string? ProtocolTypeOrNull { get; set; }
    public string? ProtocolName { get; set; }
    public string? LeaderId { get; set; }
    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet (KIP-394).</summary>
    public HashSet<string> PendingMembers { get; } = new();
    /// <summary>Members of the current generation that have not sent SyncGroup yet.</summary>
    public HashSet<string> PendingSyncMembers { get; } = new();
    /// <summary>A member joined while the initial rebalance delay runs (Kafka's newMemberAdded).</summary>
    public bool NewMemberAdded { get; set; }
    public bool InitialDelayActive { get; set; }

    public override string GroupType => "classic";
    public override string StateName => State.ToString();
    public override bool IsEmpty => State == ClassicGroupState.Empty || State == ClassicGroupState.Dead;
    public override string ProtocolType => ProtocolTypeOrNull ?? string.Empty;

    public IReadOnlyCollection<ClassicGroupMember> Members => (IReadOnlyCollection<ClassicGroupMember>)_members.Values;
    public int MemberCount => _members.Count;
    public bool Has(string memberId) => _members.ContainsKey(memberId);
    public ClassicGroupMember? Get(string memberId) => _members.TryGetValue(memberId, out var m) ? m : null;
    public bool IsLeader(string memberId) => LeaderId == memberId;
    public string? StaticMemberId(string? instanceId) =>
        instanceId is not null && _staticMembers.TryGetValue(instanceId, out var id) ? id : null;

    public int RebalanceTimeoutMs
    {
        get
        {
            int max = 0;
            foreach (var member in _members.Values) max = Math.Max(max, member.RebalanceTimeoutMs);
            return max;
        }
    }

    public void TransitionTo(ClassicGroupState target, long nowMs)
    {
        if (!IsValidTransition(State, target))
            throw new InvalidOperationException($"Group {GroupId}: invalid transition {State} -> {target}");
        PreviousState = State;
        State = target;
        CurrentStateTimestampMs = nowMs;
    }

    // Kafka's ClassicGroupState valid previous states.
    private static bool IsValidTransition(ClassicGroupState from, ClassicGroupState to) => to switch
    {
        ClassicGroupState.PreparingRebalance => from is ClassicGroupState.Stable or ClassicGroupState.CompletingRebalance or ClassicGroupState.Empty,
        ClassicGroupState.CompletingRebalance => from is ClassicGroupState.PreparingRebalance,
        ClassicGroupState.Stable => from is ClassicGroupState.CompletingRebalance,
        ClassicGroupState.Empty => from is ClassicGroupState.PreparingRebalance,
        ClassicGroupState.Dead => true,
        _ => false,
    };

    /// <summary>Restores the persisted state (load path) without transition checks.</summary>
    public void RestoreState(ClassicGroupState state, long timestampMs)
    {
        PreviousState = State;
        State = state;
        CurrentStateTimestampMs = timestampMs;
    }

    public void Add(ClassicGroupMember member)
    {
        if (_members.Count == 0 && ProtocolTypeOrNull is null) ProtocolTypeOrNull = member.ProtocolType;
        System.Diagnostics.Debug.Assert(ProtocolTypeOrNull == member.ProtocolType);
        _members[member.MemberId] = member;
        if (member.GroupInstanceId is not null) _staticMembers[member.GroupInstanceId] = member.MemberId;
        LeaderId ??= member.MemberId;
    }

    public void Remove(string memberId)
    {
        if (!_members.Remove(memberId, out var member)) return;
        if (member.GroupInstanceId is not null && _staticMembers.TryGetValue(member.GroupInstanceId, out var id) && id == memberId)
            _staticMembers.Remove(member.GroupInstanceId);
        PendingSyncMembers.Remove(memberId);
        if (LeaderId == memberId)
            LeaderId = _members.Count > 0 ? _members.GetAt(0).Key : null;
    }

    /// <summary>A static member rejoined with an empty member id: it keeps its place under a new id.</summary>
    public ClassicGroupMember ReplaceStaticMember(string instanceId, string oldMemberId, string newMemberId)
    {
        int index = _members.IndexOf(oldMemberId);
        var member = _members.GetAt(index).Value;
        _members.RemoveAt(index);
        member.MemberId = newMemberId;
        _members.Insert(index, newMemberId, member);
        _staticMembers[instanceId] = newMemberId;
        if (LeaderId == oldMemberId) LeaderId = newMemberId;
        if (PendingSyncMembers.Remove(oldMemberId)) PendingSyncMembers.Add(newMemberId);
        return member;
    }

    public bool HasAllMembersJoined()
    {
        if (PendingMembers.Count > 0) return false;
        foreach (var member in _members.Values)
            if (!member.IsAwaitingJoin) return false;
        return true;
    }

    /// <summary>Kafka's supportsProtocols: a joining member must share the protocol type and at
    /// least one protocol with every current member.</summary>
    public bool SupportsProtocols(string protocolType, List<(string Name, byte[] Metadata)> protocols)
    {
        if (_members.Count == 0)
            return protocolType.Length > 0 && protocols.Count > 0;
        if (ProtocolTypeOrNull != protocolType) return false;
        foreach (var (name, _) in protocols)
            if (CountSupporting(name) == _members.Count) return true;
        return false;
    }

    private int CountSupporting(string protocol)
    {
        int count = 0;
        foreach (var member in _members.Values)
            if (member.MetadataFor(protocol) is not null) count++;
        return count;
    }

    /// <summary>
    /// Kafka's selectProtocol: among the protocols every member supports, each member votes for
    /// the first one in its preference order; the most votes wins (ties go to the protocol the
    /// earliest member lists first, which is deterministic).
    /// </summary>
    public string SelectProtocol()
    {
        var candidates = new List<string>();
        foreach (var (name, _) in _members.GetAt(0).Value.Protocols)
            if (CountSupporting(name) == _members.Count) candidates.Add(name);
        if (candidates.Count == 0) throw new InvalidOperationException("No protocol supported by all members");
        var votes = new Dictionary<string, int>();
        foreach (var member in _members.Values)
        {
            foreach (var (name, _) in member.Protocols)
            {
                if (!candidates.Contains(name)) continue;
                votes[name] = votes.GetValueOrDefault(name) + 1;
                break;
            }
        }
        string best = candidates[0];
        foreach (var name in candidates)
            if (votes.GetValueOrDefault(name) > votes.GetValueOrDefault(best)) best = name;
        return best;
    }

    /// <summary>Kafka's initNextGeneration.</summary>
    public void InitNextGeneration(long nowMs)
    {
        GenerationId++;
        if (_members.Count > 0)
        {
            ProtocolName = SelectProtocol();
            PendingSyncMembers.Clear();
            foreach (var id in _members.Keys) PendingSyncMembers.Add(id);
            TransitionTo(ClassicGroupState.CompletingRebalance, nowMs);
        }
        else
        {
            ProtocolName = null;
            TransitionTo(ClassicGroupState.Empty, nowMs);
        }
    }

    public ClassicGroupSnapshot ToSnapshot(IReadOnlyDictionary<string, byte[]>? assignments = null)
    {
        var members = new List<ClassicMemberSnapshot>(_members.Count);
        foreach (var m in _members.Values)
        {
            byte[] assignment = assignments is not null
                ? assignments.GetValueOrDefault(m.MemberId) ?? Array.Empty<byte>()
                : m.Assignment;
            members.Add(new ClassicMemberSnapshot(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                m.RebalanceTimeoutMs, m.SessionTimeoutMs,
                (ProtocolName is null ? null : m.MetadataFor(ProtocolName)) ?? Array.Empty<byte>(), assignment));
        }
        return new ClassicGroupSnapshot(ProtocolType, GenerationId, ProtocolName, LeaderId, CurrentStateTimestampMs, members);
    }

    /// <summary>Topics the members subscribe to, parsed from their "consumer" protocol metadata; null when unknown.</summary>
    public HashSet<string>? SubscribedTopics()
    {
        if (ProtocolTypeOrNull != "consumer" || ProtocolName is null) return null;
        var topics = new HashSet<string>();
        foreach (var member in _members.Values)
        {
            var metadata = member.MetadataFor(ProtocolName);
            if (metadata is null || !ConsumerProtocol.TryReadSubscriptionTopics(metadata, topics)) return null;
        }
        return topics;
    }
}

/// <summary>Result of JoinGroup for one member, as the handler maps it onto JoinGroupResponse.</summary>
public sealed record JoinGroupResult(
    ErrorCode Error,
    int GenerationId = -1,
    string? ProtocolType = null,
    string? ProtocolName = null,
    string LeaderId = "",
    string MemberId = "",
    bool SkipAssignment = false,
    IReadOnlyList<(string MemberId, string? GroupInstanceId, byte[] Metadata)>? Members = null)
{
    public static JoinGroupResult Failed(ErrorCode error, string memberId = "") => new(error, MemberId: memberId);
}

public sealed record SyncGroupResult(ErrorCode Error, string? ProtocolType = null, string? ProtocolName = null, byte[]? Assignment = null)
{
    public static SyncGroupResult Failed(ErrorCode error) => new(error, Assignment: Array.Empty<byte>());
}
