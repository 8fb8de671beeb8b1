using System.Text;
using System.Text.RegularExpressions;

namespace Broker.Coordinator.Group;

/// <summary>KIP-848 group states, named as Kafka reports them.</summary>
public enum ConsumerGroupState { Empty, Assigning, Reconciling, Stable, Dead }

public sealed class ConsumerGroupMember(string memberId)
{
    public string MemberId { get; } = memberId;
    public string? InstanceId { get; set; }
    public string? RackId { get; set; }
    public string ClientId { get; set; } = string.Empty;
    public string ClientHost { get; set; } = string.Empty;
    public IReadOnlyList<string> SubscribedTopicNames { get; set; } = Array.Empty<string>();
    public string? SubscribedTopicRegex { get; set; }
    public int RebalanceTimeoutMs { get; set; } = -1;
    public string? ServerAssignor { get; set; }
    public int MemberEpoch { get; set; }
    public int PreviousMemberEpoch { get; set; }
    public ConsumerMemberState State { get; set; } = ConsumerMemberState.Stable;
    public TopicPartitionSet AssignedPartitions { get; set; } = TopicPartitionSet.Empty;
    public TopicPartitionSet PartitionsPendingRevocation { get; set; } = TopicPartitionSet.Empty;
    /// <summary>Set while the member speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat).</summary>
    public ClassicMemberMetadata? Classic { get; set; }
    public bool UsesClassicProtocol => Classic is not null;
    /// <summary>What the member last said it owns (in memory only; null until it reports).</summary>
    public TopicPartitionSet? ReportedOwnedPartitions { get; set; }

    public ConsumerMemberSubscription ToSubscription() => new(InstanceId, RackId, ClientId, ClientHost,
        SubscribedTopicNames, SubscribedTopicRegex, RebalanceTimeoutMs, ServerAssignor, Classic);

    public ConsumerMemberAssignmentState ToAssignmentState() =>
        new(MemberEpoch, PreviousMemberEpoch, State, AssignedPartitions, PartitionsPendingRevocation);
}

/// <summary>
/// A KIP-848 consumer group (Kafka's ConsumerGroup): group epoch, members with their
/// subscriptions and current assignments, and the target assignment. Mutated only by the
/// Replay* methods, called by the shard for records it appended or loaded.
/// </summary>
public sealed class ConsumerGroup(string groupId) : GroupBase(groupId)
{
    private readonly Dictionary<string, string> _staticMembers = new();
    /// <summary>Who holds each partition (assigned or pending revocation): a partition is
    /// given to a new owner only once it is released (KIP-848 reconciliation).</summary>
    private readonly Dictionary<(Guid, int), string> _partitionOwners = new();
    private readonly Dictionary<string, Regex> _regexCache = new();

    public int GroupEpoch { get; private set; }
    public int AssignmentEpoch { get; private set; }
    public Dictionary<string, ConsumerGroupMember> Members { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, TopicPartitionSet> TargetAssignment { get; } = new(StringComparer.Ordinal);
    /// <summary>In-memory summary of the subscribed topics' metadata at the last epoch bump
    /// (stands in for Kafka's subscription metadata record); null right after a load.</summary>
    public string? SubscriptionFingerprint { get; set; }
    public bool IsDeleted { get; private set; }

    public override string GroupType => "consumer";
    public override string ProtocolType => "consumer";
    public override bool IsEmpty => Members.Count == 0;
    public override string StateName => State.ToString();

    public ConsumerGroupState State
    {
        get
        {
            if (IsDeleted) return ConsumerGroupState.Dead;
            if (Members.Count == 0) return ConsumerGroupState.Empty;
            if (GroupEpoch > AssignmentEpoch) return ConsumerGroupState.Assigning;
            foreach (var member in Members.Values)
                if (member.MemberEpoch != AssignmentEpoch || member.State != ConsumerMemberState.Stable)
                    return ConsumerGroupState.Reconciling;
            return ConsumerGroupState.Stable;
        }
    }

    public string? StaticMemberId(string? instanceId) =>
        instanceId is not null && _staticMembers.TryGetValue(instanceId, out var id) ? id : null;

    public string? OwnerOf(Guid topicId, int partition) => _partitionOwners.GetValueOrDefault((topicId, partition));

    // ----- replay ---------------------------------------------------------------------------

    public void ReplayGroupMetadata(int? epoch)
    {
        if (epoch is null) { IsDeleted = true; return; }
        System.Diagnostics.Debug.Assert(epoch.Value >= GroupEpoch, "group epochs never decrease");
        GroupEpoch = epoch.Value;
    }

    public void ReplayMemberMetadata(ConsumerGroupMemberMetadataRecord record)
    {
        if (record.Value is null)
        {
            if (Members.Remove(record.MemberId, out var removed))
            {
                if (removed.InstanceId is not null && StaticMemberId(removed.InstanceId) == removed.MemberId)
                    _staticMembers.Remove(removed.InstanceId);
                SetOwnership(removed, null);
            }
            return;
        }
        var member = GetOrAddMember(record.MemberId);
        var v = record.Value;
        member.InstanceId = v.InstanceId;
        member.RackId = v.RackId;
        member.ClientId = v.ClientId;
        member.ClientHost = v.ClientHost;
        member.SubscribedTopicNames = v.SubscribedTopicNames;
        member.SubscribedTopicRegex = v.SubscribedTopicRegex;
        member.RebalanceTimeoutMs = v.RebalanceTimeoutMs;
        member.ServerAssignor = v.ServerAssignor;
        member.Classic = v.Classic;
        if (v.InstanceId is not null) _staticMembers[v.InstanceId] = member.MemberId;
    }

    public void ReplayTargetAssignmentMetadata(ConsumerGroupTargetAssignmentMetadataRecord record)
    {
        if (record.AssignmentEpoch is { } epoch) AssignmentEpoch = epoch;
    }

    public void ReplayTargetAssignmentMember(ConsumerGroupTargetAssignmentMemberRecord record)
    {
        if (record.Value is null) TargetAssignment.Remove(record.MemberId);
        else TargetAssignment[record.MemberId] = record.Value;
    }

    public void ReplayCurrentAssignment(ConsumerGroupCurrentMemberAssignmentRecord record)
    {
        if (!Members.TryGetValue(record.MemberId, out var member))
        {
            if (record.Value is null) return;
            member = GetOrAddMember(record.MemberId);
        }
        SetOwnership(member, null);
        var v = record.Value ?? new ConsumerMemberAssignmentState(0, 0, ConsumerMemberState.Stable, TopicPartitionSet.Empty, TopicPartitionSet.Empty);
        member.MemberEpoch = v.MemberEpoch;
        member.PreviousMemberEpoch = v.PreviousMemberEpoch;
        member.State = v.State;
        member.AssignedPartitions = v.AssignedPartitions;
        member.PartitionsPendingRevocation = v.PartitionsPendingRevocation;
        SetOwnership(member, member.MemberId);
    }

    private ConsumerGroupMember GetOrAddMember(string memberId)
    {
        if (!Members.TryGetValue(memberId, out var member))
            Members[memberId] = member = new ConsumerGroupMember(memberId);
        return member;
    }

    private void SetOwnership(ConsumerGroupMember member, string? owner)
    {
        foreach (var set in new[] { member.AssignedPartitions, member.PartitionsPendingRevocation })
        {
            foreach (var tp in set.All())
            {
                if (owner is null)
                {
                    if (_partitionOwners.TryGetValue(tp, out var current) && current == member.MemberId) _partitionOwners.Remove(tp);
                }
                else
                {
                    // Invariant: reconciliation never gives a partition to two members.
                    System.Diagnostics.Debug.Assert(!_partitionOwners.TryGetValue(tp, out var other) || other == owner,
                        $"partition {tp} owned by {_partitionOwners.GetValueOrDefault(tp)} and {owner}");
                    _partitionOwners[tp] = owner;
                }
            }
        }
    }

    /// <summary>Records that delete the whole group (Kafka's order: assignments, members, then epochs).</summary>
    public void AddDeletionRecords(List<GroupRecord> records)
    {
        foreach (var memberId in Members.Keys)
        {
            records.Add(new ConsumerGroupCurrentMemberAssignmentRecord(GroupId, memberId, null));
            records.Add(new ConsumerGroupMemberMetadataRecord(GroupId, memberId, null));
        }
        foreach (var memberId in TargetAssignment.Keys)
            records.Add(new ConsumerGroupTargetAssignmentMemberRecord(GroupId, memberId, null));
        records.Add(new ConsumerGroupTargetAssignmentMetadataRecord(GroupId, null));
        records.Add(new ConsumerGroupMetadataRecord(GroupId, null));
    }

    // ----- subscriptions ----------------------------------------------------------------------

    /// <summary>
    /// Compiles a subscription regex. Kafka uses RE2/J full-match semantics; we use .NET Regex
    /// anchored to the whole name, with a match timeout standing in for RE2's linear time.
    /// </summary>
    public static Regex CompileSubscriptionRegex(string pattern, TimeSpan timeout) =>
        new("^(?:" + pattern + ")$", RegexOptions.CultureInvariant, timeout);

    private Regex GetRegex(string pattern, TimeSpan timeout)
    {
        if (!_regexCache.TryGetValue(pattern, out var regex))
            _regexCache[pattern] = regex = CompileSubscriptionRegex(pattern, timeout);
        return regex;
    }

    public HashSet<string> SubscribedTopicNames(ConsumerGroupMember member, ITopicMetadataSource metadata, TimeSpan regexTimeout)
    {
        var topics = new HashSet<string>(member.SubscribedTopicNames, StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(member.SubscribedTopicRegex))
        {
            var regex = GetRegex(member.SubscribedTopicRegex, regexTimeout);
            foreach (var name in metadata.GetTopicNames())
            {
                if (name.StartsWith("__", StringComparison.Ordinal)) continue; // internal topics never match a pattern
                try { if (regex.IsMatch(name)) topics.Add(name); }
                catch (RegexMatchTimeoutException) { }
            }
        }
        return topics;
    }

    public HashSet<string> SubscribedTopicNames(ITopicMetadataSource metadata, TimeSpan regexTimeout)
    {
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in Members.Values) topics.UnionWith(SubscribedTopicNames(member, metadata, regexTimeout));
        return topics;
    }

    /// <summary>Names, ids and partition counts of every subscribed topic that exists, as one string.</summary>
    public static string Fingerprint(IEnumerable<string> topicNames, ITopicMetadataSource metadata)
    {
        var sorted = new List<string>(topicNames);
        sorted.Sort(StringComparer.Ordinal);
        var builder = new StringBuilder();
        foreach (var name in sorted)
        {
            if (metadata.GetTopic(name) is not { } topic) continue;
            builder.Append(name).Append(':').Append(topic.TopicId).Append(':').Append(topic.PartitionCount).Append(';');
        }
        return builder.ToString();
    }
}
