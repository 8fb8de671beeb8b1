using Broker.Coordinator.Group;

namespace Broker.Tests.Coordinator;

public class GroupRecordSerdeTests
{
    [Fact]
    public void RecordsRoundTripThroughOneRecordBatch()
    {
        var topicId = Guid.NewGuid();
        var partitions = TopicPartitionSet.From(new[] { (topicId, 3), (topicId, 1) });
        var records = new List<GroupRecord>
        {
            new OffsetCommitRecord("g", "t", 2, new OffsetAndMetadata(42, 5, "m", 1000, -1)),
            new OffsetCommitRecord("g", "t", 3, new OffsetAndMetadata(43, -1, "", 1000, 5000)),
            new OffsetCommitRecord("g", "t", 4, null),
            new ClassicGroupRecord("g", new ClassicGroupSnapshot("consumer", 3, "range", "m1", 999,
                new[] { new ClassicMemberSnapshot("m1", "i1", "c", "/h", 30000, 10000, new byte[] { 1 }, new byte[] { 2 }) })),
            new ConsumerGroupMetadataRecord("cg", 7),
            new ConsumerGroupMemberMetadataRecord("cg", "m", new ConsumerMemberSubscription(null, "r", "c", "/h", new[] { "a", "b" }, "x.*", 5000, "uniform")),
            new ConsumerGroupTargetAssignmentMetadataRecord("cg", 7),
            new ConsumerGroupTargetAssignmentMemberRecord("cg", "m", partitions),
            new ConsumerGroupCurrentMemberAssignmentRecord("cg", "m", new ConsumerMemberAssignmentState(7, 6, ConsumerMemberState.UnrevokedPartitions, partitions, TopicPartitionSet.Empty)),
            new ConsumerGroupMetadataRecord("cg", null),
        };
        using var batch = CoordinatorRecordCodec.EncodeBatch(records, 12345);
        var decoded = new List<GroupRecord>();
        long next = CoordinatorRecordCodec.DecodeBatches(batch.WrittenSpan, decoded);
        Assert.Equal(records.Count, next);
        Assert.Equal(records.Count, decoded.Count);
        Assert.Equal(records[0], decoded[0]);
        Assert.Equal(records[1], decoded[1]);
        Assert.Equal(records[2], decoded[2]);
        var classic = Assert.IsType<ClassicGroupRecord>(decoded[3]);
        Assert.Equal(3, classic.Value!.Generation);
        Assert.Equal("i1", classic.Value.Members[0].GroupInstanceId);
        Assert.Equal(new byte[] { 2 }, classic.Value.Members[0].Assignment);
        Assert.Equal(records[4], decoded[4]);
        var member = Assert.IsType<ConsumerGroupMemberMetadataRecord>(decoded[5]);
        Assert.Equal(new[] { "a", "b" }, member.Value!.SubscribedTopicNames);
        Assert.Equal("x.*", member.Value.SubscribedTopicRegex);
        Assert.True(partitions.SetEquals(Assert.IsType<ConsumerGroupTargetAssignmentMemberRecord>(decoded[7]).Value!));
        var current = Assert.IsType<ConsumerGroupCurrentMemberAssignmentRecord>(decoded[8]);
        Assert.Equal(ConsumerMemberState.UnrevokedPartitions, current.Value!.State);
        Assert.Null(Assert.IsType<ConsumerGroupMetadataRecord>(decoded[9]).Epoch);
    }

    [Fact]
    public void KeyTypesMatchKafka()
    {
        // Kafka's key type (version prefix): OffsetCommit 1, GroupMetadata 2, ConsumerGroupMetadata 3, ... CurrentMemberAssignment 8.
        Assert.Equal(new byte[] { 0, 1 }, GroupRecordSerde.Serialize(new OffsetCommitRecord("g", "t", 0, null)).Key[..2]);
        Assert.Equal(new byte[] { 0, 2 }, GroupRecordSerde.Serialize(new ClassicGroupRecord("g", null)).Key[..2]);
        Assert.Equal(new byte[] { 0, 8 }, GroupRecordSerde.Serialize(new ConsumerGroupCurrentMemberAssignmentRecord("g", "m", null)).Key[..2]);
        var value = GroupRecordSerde.Serialize(new OffsetCommitRecord("g", "t", 0, new OffsetAndMetadata(1, -1, "", 0))).Value!;
        Assert.Equal(new byte[] { 0, 3 }, value[..2]);
    }
}
