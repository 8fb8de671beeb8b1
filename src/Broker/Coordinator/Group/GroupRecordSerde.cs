using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Coordinator.Group;

/// <summary>
/// Kafka's __consumer_offsets record format: the key is an int16 record type (the key
/// schema's version: 0/1 offset commit, 2 group metadata, 3..8 KIP-848 consumer group records)
/// followed by the key; the value is an int16 version followed by the value; a null value is a
/// tombstone. Types we do not know (share groups, streams groups) are skipped on load, as Kafka
/// skips unknown types it has been told to ignore.
/// </summary>
public static class GroupRecordSerde
{
    public const short OffsetCommitKeyType = 1;
    public const short GroupMetadataKeyType = 2;
    public const short ConsumerGroupMetadataKeyType = 3;
    public const short ConsumerGroupPartitionMetadataKeyType = 4;
    public const short ConsumerGroupMemberMetadataKeyType = 5;
    public const short ConsumerGroupTargetAssignmentMetadataKeyType = 6;
    public const short ConsumerGroupTargetAssignmentMemberKeyType = 7;
    public const short ConsumerGroupCurrentMemberAssignmentKeyType = 8;

    public static (byte[] Key, byte[]? Value) Serialize(GroupRecord record)
    {
        switch (record)
        {
            case OffsetCommitRecord r:
            {
                var key = Encode(new OffsetCommitKey { Group = r.GroupId, Topic = r.Topic, Partition = r.Partition }, OffsetCommitKeyType);
                if (r.Value is null) return (key, null);
                var v = r.Value;
                // Kafka writes v1 only when an explicit expire timestamp exists (OffsetCommit v2-v4), else v3.
                short version = v.ExpireTimestampMs >= 0 ? (short)1 : (short)3;
                return (key, Encode(new OffsetCommitValue
                {
                    Offset = v.Offset, LeaderEpoch = v.LeaderEpoch, Metadata = v.Metadata,
                    CommitTimestamp = v.CommitTimestampMs, ExpireTimestamp = v.ExpireTimestampMs,
                }, version));
            }
            case ClassicGroupRecord r:
            {
                var key = Encode(new GroupMetadataKey { Group = r.GroupId }, GroupMetadataKeyType);
                if (r.Value is null) return (key, null);
                var v = r.Value;
                var value = new GroupMetadataValue
                {
                    ProtocolType = v.ProtocolType, Generation = v.Generation, Protocol = v.Protocol, Leader = v.Leader,
                    CurrentStateTimestamp = v.CurrentStateTimestampMs,
                };
                foreach (var m in v.Members)
                    value.Members.Add(new GroupMetadataValue.MemberMetadata
                    {
                        MemberId = m.MemberId, GroupInstanceId = m.GroupInstanceId, ClientId = m.ClientId, ClientHost = m.ClientHost,
                        RebalanceTimeout = m.RebalanceTimeoutMs, SessionTimeout = m.SessionTimeoutMs,
                        Subscription = m.Subscription, Assignment = m.Assignment,
                    });
                return (key, Encode(value, 3));
            }
            case ConsumerGroupMetadataRecord r:
                return (Encode(new ConsumerGroupMetadataKey { GroupId = r.GroupId }, ConsumerGroupMetadataKeyType),
                    r.Epoch is null ? null : Encode(new ConsumerGroupMetadataValue { Epoch = r.Epoch.Value }, 0));
            case ConsumerGroupMemberMetadataRecord r:
            {
                var key = Encode(new ConsumerGroupMemberMetadataKey { GroupId = r.GroupId, MemberId = r.MemberId }, ConsumerGroupMemberMetadataKeyType);
                if (r.Value is null) return (key, null);
                var v = r.Value;
                return (key, Encode(new ConsumerGroupMemberMetadataValue
                {
                    InstanceId = v.InstanceId, RackId = v.RackId, ClientId = v.ClientId, ClientHost = v.ClientHost,
                    SubscribedTopicNames = new List<string>(v.SubscribedTopicNames), SubscribedTopicRegex = v.SubscribedTopicRegex,
                    RebalanceTimeoutMs = v.RebalanceTimeoutMs, ServerAssignor = v.ServerAssignor,
                    ClassicMemberMetadata = v.Classic is null ? null : new ConsumerGroupMemberMetadataValue.ClassicMemberMetadataData
                    {
                        SessionTimeoutMs = v.Classic.SessionTimeoutMs,
                        SupportedProtocols = v.Classic.SupportedProtocols
                            .Select(sp => new ConsumerGroupMemberMetadataValue.ClassicProtocol { Name = sp.Name, Metadata = sp.Metadata }).ToList(),
                    },
                }, 0));
            }
            case ConsumerGroupTargetAssignmentMetadataRecord r:
                return (Encode(new ConsumerGroupTargetAssignmentMetadataKey { GroupId = r.GroupId }, ConsumerGroupTargetAssignmentMetadataKeyType),
                    r.AssignmentEpoch is null ? null : Encode(new ConsumerGroupTargetAssignmentMetadataValue { AssignmentEpoch = r.AssignmentEpoch.Value }, 0));
            case ConsumerGroupTargetAssignmentMemberRecord r:
            {
                var key = Encode(new ConsumerGroupTargetAssignmentMemberKey { GroupId = r.GroupId, MemberId = r.MemberId }, ConsumerGroupTargetAssignmentMemberKeyType);
                if (r.Value is null) return (key, null);
                var value = new ConsumerGroupTargetAssignmentMemberValue();
                foreach (var (topicId, partitions) in r.Value.Topics)
                    value.TopicPartitions.Add(new ConsumerGroupTargetAssignmentMemberValue.TopicPartition { TopicId = topicId, Partitions = new List<int>(partitions) });
                return (key, Encode(value, 0));
            }
            case ConsumerGroupCurrentMemberAssignmentRecord r:
            {
                var key = Encode(new ConsumerGroupCurrentMemberAssignmentKey { GroupId = r.GroupId, MemberId = r.MemberId }, ConsumerGroupCurrentMemberAssignmentKeyType);
                if (r.Value is null) return (key, null);
                var v = r.Value;
                return (key, Encode(new ConsumerGroupCurrentMemberAssignmentValue
                {
                    MemberEpoch = v.MemberEpoch, PreviousMemberEpoch = v.PreviousMemberEpoch, State = (sbyte)v.State,
                    AssignedPartitions = ToTopicPartitions(v.AssignedPartitions),
                    PartitionsPendingRevocation = ToTopicPartitions(v.PartitionsPendingRevocation),
                }, 0));
            }
            case ConsumerGroupPartitionMetadataRecord r:
                return (Encode(new ConsumerGroupPartitionMetadataKey { GroupId = r.GroupId }, ConsumerGroupPartitionMetadataKeyType),
                    r.IsTombstone ? null : Encode(new ConsumerGroupPartitionMetadataValue(), 0));
            default:
                throw new ArgumentException($"Unknown record {record.GetType().Name}");
        }
    }

    /// <summary>Decodes one record from arrays; a null value is a tombstone.</summary>
    public static GroupRecord? Deserialize(byte[] key, byte[]? value) =>
        Deserialize(key.AsMemory(), value is null ? (ReadOnlyMemory<byte>?)null : value.AsMemory());

    /// <summary>Decodes one record; null for record types this coordinator does not handle.
    /// Throws <see cref="InvalidDataException"/> on malformed bytes.</summary>
    public static GroupRecord? Deserialize(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? value)
    {
        var keyReader = new KafkaReader(key);
        short type = keyReader.ReadInt16();
        if (keyReader.Failed) throw new InvalidDataException("Truncated __consumer_offsets key");
        switch (type)
        {
            case 0:
            case 1:
            {
                var k = ReadBody(new OffsetCommitKey(), ref keyReader, type);
                if (value is null) return new OffsetCommitRecord(k.Group, k.Topic, k.Partition, null);
                var v = Decode(new OffsetCommitValue(), value.Value);
                return new OffsetCommitRecord(k.Group, k.Topic, k.Partition,
                    new OffsetAndMetadata(v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp, v.ExpireTimestamp));
            }
            case 2:
            {
                var k = ReadBody(new GroupMetadataKey(), ref keyReader, type);
                if (value is null) return new ClassicGroupRecord(k.Group, null);
                var v = Decode(new GroupMetadataValue(), value.Value);
                var members = new List<ClassicMemberSnapshot>(v.Members.Count);
                foreach (var m in v.Members)
                    members.Add(new ClassicMemberSnapshot(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                        m.RebalanceTimeout < 0 ? m.SessionTimeout : m.RebalanceTimeout, m.SessionTimeout, m.Subscription, m.Assignment));
                return new ClassicGroupRecord(k.Group, new ClassicGroupSnapshot(v.ProtocolType, v.Generation, v.Protocol, v.Leader,
                    v.CurrentStateTimestamp, members));
            }
            case 3:
            {
                var k = ReadBody(new ConsumerGroupMetadataKey(), ref keyReader, type);
                return new ConsumerGroupMetadataRecord(k.GroupId, value is null ? null : Decode(new ConsumerGroupMetadataValue(), value.Value).Epoch);
            }
            case 4:
            {
                var k = ReadBody(new ConsumerGroupPartitionMetadataKey(), ref keyReader, type);
                return new ConsumerGroupPartitionMetadataRecord(k.GroupId, value is null);
            }
            case 5:
            {
                var k = ReadBody(new ConsumerGroupMemberMetadataKey(), ref keyReader, type);
                if (value is null) return new ConsumerGroupMemberMetadataRecord(k.GroupId, k.MemberId, null);
                var v = Decode(new ConsumerGroupMemberMetadataValue(), value.Value);
                return new ConsumerGroupMemberMetadataRecord(k.GroupId, k.MemberId, new ConsumerMemberSubscription(
                    v.InstanceId, v.RackId, v.ClientId, v.ClientHost, v.SubscribedTopicNames, v.SubscribedTopicRegex,
                    v.RebalanceTimeoutMs, v.ServerAssignor,
                    v.ClassicMemberMetadata is not { } classic ? null : new ClassicMemberMetadata(classic.SessionTimeoutMs,
                        classic.SupportedProtocols.Select(sp => (sp.Name, sp.Metadata)).ToList())));
            }
            case 6:
            {
                var k = ReadBody(new ConsumerGroupTargetAssignmentMetadataKey(), ref keyReader, type);
                return new ConsumerGroupTargetAssignmentMetadataRecord(k.GroupId,
                    value is null ? null : Decode(new ConsumerGroupTargetAssignmentMetadataValue(), value.Value).AssignmentEpoch);
            }
            case 7:
            {
                var k = ReadBody(new ConsumerGroupTargetAssignmentMemberKey(), ref keyReader, type);
                if (value is null) return new ConsumerGroupTargetAssignmentMemberRecord(k.GroupId, k.MemberId, null);
                var v = Decode(new ConsumerGroupTargetAssignmentMemberValue(), value.Value);
                var topics = new List<KeyValuePair<Guid, IEnumerable<int>>>(v.TopicPartitions.Count);
                foreach (var t in v.TopicPartitions) topics.Add(new(t.TopicId, t.Partitions));
                return new ConsumerGroupTargetAssignmentMemberRecord(k.GroupId, k.MemberId, TopicPartitionSet.From(topics));
            }
            case 8:
            {
                var k = ReadBody(new ConsumerGroupCurrentMemberAssignmentKey(), ref keyReader, type);
                if (value is null) return new ConsumerGroupCurrentMemberAssignmentRecord(k.GroupId, k.MemberId, null);
                var v = Decode(new ConsumerGroupCurrentMemberAssignmentValue(), value.Value);
                return new ConsumerGroupCurrentMemberAssignmentRecord(k.GroupId, k.MemberId, new ConsumerMemberAssignmentState(
                    v.MemberEpoch, v.PreviousMemberEpoch, (ConsumerMemberState)v.State,
                    FromTopicPartitions(v.AssignedPartitions), FromTopicPartitions(v.PartitionsPendingRevocation)));
            }
            default:
                return null;
        }
    }

    private static List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> ToTopicPartitions(TopicPartitionSet set)
    {
        var list = new List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions>(set.Topics.Count);
        foreach (var (topicId, partitions) in set.Topics)
            list.Add(new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions { TopicId = topicId, Partitions = new List<int>(partitions) });
        return list;
    }

    private static TopicPartitionSet FromTopicPartitions(List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> list)
    {
        var topics = new List<KeyValuePair<Guid, IEnumerable<int>>>(list.Count);
        foreach (var t in list) topics.Add(new(t.TopicId, t.Partitions));
        return TopicPartitionSet.From(topics);
    }

    private static byte[] Encode(IMessage message, short version)
    {
        var buffer = new byte[2 + message.ComputeSize(version)];
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(version);
        message.Write(ref writer, version);
        System.Diagnostics.Debug.Assert(writer.Position == buffer.Length);
        return buffer;
    }

    private static T ReadBody<T>(T message, ref KafkaReader reader, short version) where T : IMessage
    {
        message.Read(ref reader, version);
        if (reader.Failed) throw new InvalidDataException($"Malformed {typeof(T).Name}");
        return message;
    }

    private static T Decode<T>(T message, ReadOnlyMemory<byte> bytes) where T : IMessage
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        if (reader.Failed) throw new InvalidDataException($"Truncated {typeof(T).Name}");
        // Kafka tolerates value versions newer than it knows for these records (KIP-915): read
        // them as the highest version we know, which keeps every field we use.
        if (version > message.HighestSupportedVersion) version = message.HighestSupportedVersion;
        return ReadBody(message, ref reader, version);
    }
}
