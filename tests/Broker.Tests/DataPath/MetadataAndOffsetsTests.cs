using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication;
using Broker.Storage;

namespace Broker.Tests.DataPath;

public sealed class MetadataAndOffsetsTests : IDisposable
{
    private readonly DataPathFixture _f = new(("num.partitions", "3"));

    public void Dispose() => _f.Dispose();

    private static MetadataRequest Request(params string[] names)
    {
        var request = new MetadataRequest { Topics = new List<MetadataRequest.MetadataRequestTopic>(), AllowAutoTopicCreation = true };
        foreach (string name in names)
        {
            request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = name });
        }

        return request;
    }

    [Fact]
    public async Task Every_version_describes_this_node_and_the_topic()
    {
        string topic = DataPathFixture.UniqueTopic();
        Guid id = _f.Store.CreateTopic(topic, 2, 1).Topic!.TopicId;
        for (short version = 0; version <= 12; version++)
        {
            MetadataResponse response = (await _f.CallAsync<MetadataResponse>(_f.Metadata, Request(topic), version))!;
            MetadataResponse.MetadataResponseBroker broker = Assert.Single(response.Brokers);
            Assert.Equal(1, broker.NodeId);
            Assert.Equal(9092, broker.Port);
            Assert.Equal("127.0.0.1", broker.Host);
            if (version >= 1)
            {
                Assert.Equal(1, response.ControllerId);
            }

            if (version >= 2)
            {
                Assert.Equal(_f.Cluster.ClusterId, response.ClusterId);
            }

            MetadataResponse.MetadataResponseTopic t = Assert.Single(response.Topics);
            Assert.Equal(0, t.ErrorCode);
            Assert.Equal(topic, t.Name);
            Assert.Equal(version >= 10 ? id : Guid.Empty, t.TopicId);
            Assert.Equal(new[] { 0, 1 }, t.Partitions.Select(p => p.PartitionIndex));
            Assert.All(t.Partitions, p =>
            {
                Assert.Equal(1, p.LeaderId);
                Assert.Equal(new[] { 1 }, p.ReplicaNodes);
                Assert.Equal(new[] { 1 }, p.IsrNodes);
                Assert.Equal(version >= 7 ? 0 : -1, p.LeaderEpoch);
            });
        }
    }

    [Fact]
    public async Task Unknown_topics_are_auto_created_with_num_partitions_unless_disallowed()
    {
        string topic = DataPathFixture.UniqueTopic();
        MetadataRequest noCreate = Request(topic);
        noCreate.AllowAutoTopicCreation = false;
        MetadataResponse refused = (await _f.CallAsync<MetadataResponse>(_f.Metadata, noCreate, 12))!;
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, refused.Topics[0].ErrorCode);
        Assert.Null(_f.Store.GetTopic(topic));

        MetadataResponse created = (await _f.CallAsync<MetadataResponse>(_f.Metadata, Request(topic), 12))!;
        Assert.Equal(0, created.Topics[0].ErrorCode);
        Assert.Equal(3, created.Topics[0].Partitions.Count);
        Assert.Equal(_f.Store.GetTopic(topic)!.TopicId, created.Topics[0].TopicId);

        MetadataResponse invalid = (await _f.CallAsync<MetadataResponse>(_f.Metadata, Request("bad name!"), 12))!;
        Assert.Equal((short)ErrorCode.InvalidTopicException, invalid.Topics[0].ErrorCode);
    }

    [Fact]
    public async Task Auto_creation_follows_auto_create_topics_enable()
    {
        using var off = new DataPathFixture(("auto.create.topics.enable", "false"));
        string topic = DataPathFixture.UniqueTopic();
        MetadataResponse response = (await off.CallAsync<MetadataResponse>(off.Metadata, Request(topic), 9))!;
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, response.Topics[0].ErrorCode);
    }

    [Fact]
    public async Task All_topics_by_null_list_and_lookup_by_topic_id()
    {
        string a = DataPathFixture.UniqueTopic(), b = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(a, 1, 1);
        Guid idB = _f.Store.CreateTopic(b, 1, 1).Topic!.TopicId;
        MetadataResponse all = (await _f.CallAsync<MetadataResponse>(_f.Metadata, new MetadataRequest { Topics = null }, 12))!;
        Assert.Contains(all.Topics, t => t.Name == a);
        Assert.Contains(all.Topics, t => t.Name == b);
        MetadataResponse none = (await _f.CallAsync<MetadataResponse>(_f.Metadata, Request(), 12))!;
        Assert.Empty(none.Topics);
        MetadataResponse allV0 = (await _f.CallAsync<MetadataResponse>(_f.Metadata, Request(), 0))!;
        Assert.Equal(2, allV0.Topics.Count);

        var byId = new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = null, TopicId = idB }, new MetadataRequest.MetadataRequestTopic { Name = null, TopicId = Guid.NewGuid() }] };
        MetadataResponse found = (await _f.CallAsync<MetadataResponse>(_f.Metadata, byId, 12))!;
        Assert.Equal(b, found.Topics[0].Name);
        Assert.Equal((short)ErrorCode.UnknownTopicId, found.Topics[1].ErrorCode);
    }

    [Fact]
    public async Task ListOffsets_earliest_latest_max_timestamp_and_by_timestamp()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        Partition partition = _f.Replicas.GetPartition(new TopicPartition(topic, 0))!;
        long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10_000;
        _f.Replicas.AppendToLeader(partition, DataPathFixture.Batch(2, timestamp: t0), 1);        // 0, 1
        _f.Replicas.AppendToLeader(partition, DataPathFixture.Batch(2, timestamp: t0 + 5000), 1); // 2, 3
        _f.Replicas.AppendToLeader(partition, DataPathFixture.Batch(1, timestamp: t0 + 1000), 1); // 4

        async Task<ListOffsetsResponse.ListOffsetsPartitionResponse> ListAsync(long timestamp, short version = 8)
        {
            var request = new ListOffsetsRequest { ReplicaId = -1 };
            request.Topics.Add(new ListOffsetsRequest.ListOffsetsTopic { Name = topic, Partitions = { new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = 0, Timestamp = timestamp } } });
            ListOffsetsResponse response = (await _f.CallAsync<ListOffsetsResponse>(_f.ListOffsets, request, version))!;
            return response.Topics[0].Partitions[0];
        }

        Assert.Equal(0, (await ListAsync(-2)).Offset);
        Assert.Equal(5, (await ListAsync(-1)).Offset);
        Assert.Equal(5, (await ListAsync(-1, 1)).Offset);
        Assert.Equal(0, (await ListAsync(-1)).LeaderEpoch);
        ListOffsetsResponse.ListOffsetsPartitionResponse max = await ListAsync(-3);
        Assert.Equal(2, max.Offset); // the earliest record with the max timestamp (KAFKA-16310), not the batch's last
        Assert.Equal(t0 + 5000, max.Timestamp);
        Assert.Equal(2, (await ListAsync(t0 + 2000)).Offset);
        Assert.Equal(-1, (await ListAsync(t0 + 60_000)).Offset);
        for (short version = 1; version <= 10; version++)
        {
            Assert.Equal(0, (await ListAsync(-2, version)).ErrorCode);
        }

        var unknown = new ListOffsetsRequest { ReplicaId = -1 };
        unknown.Topics.Add(new ListOffsetsRequest.ListOffsetsTopic { Name = "nope", Partitions = { new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = 0, Timestamp = -1 } } });
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await _f.CallAsync<ListOffsetsResponse>(_f.ListOffsets, unknown, 7))!.Topics[0].Partitions[0].ErrorCode);
    }

    [Fact]
    public async Task OffsetForLeaderEpoch_answers_from_the_epoch_cache()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        Partition partition = _f.Replicas.GetPartition(new TopicPartition(topic, 0))!;
        _f.Replicas.AppendToLeader(partition, DataPathFixture.Batch(3), 1);
        partition.MakeLeader(2, [1], [1]);
        _f.Replicas.AppendToLeader(partition, DataPathFixture.Batch(2), 1);

        async Task<OffsetForLeaderEpochResponse.EpochEndOffset> AskAsync(int epoch, int current = -1, short version = 4)
        {
            var request = new OffsetForLeaderEpochRequest { ReplicaId = -1 };
            request.Topics.Add(new OffsetForLeaderEpochRequest.OffsetForLeaderTopic
            {
                Topic = topic,
                Partitions = { new OffsetForLeaderEpochRequest.OffsetForLeaderPartition { Partition = 0, LeaderEpoch = epoch, CurrentLeaderEpoch = current } },
            });
            return (await _f.CallAsync<OffsetForLeaderEpochResponse>(_f.OffsetForLeaderEpoch, request, version))!.Topics[0].Partitions[0];
        }

        OffsetForLeaderEpochResponse.EpochEndOffset e0 = await AskAsync(0);
        Assert.Equal((0, 3L), (e0.LeaderEpoch, e0.EndOffset));
        OffsetForLeaderEpochResponse.EpochEndOffset e1 = await AskAsync(1, version: 2);
        Assert.Equal((0, 3L), (e1.LeaderEpoch, e1.EndOffset));
        OffsetForLeaderEpochResponse.EpochEndOffset e2 = await AskAsync(2, version: 3);
        Assert.Equal((2, 5L), (e2.LeaderEpoch, e2.EndOffset));
        Assert.Equal((short)ErrorCode.FencedLeaderEpoch, (await AskAsync(2, current: 1)).ErrorCode);
    }

    [Fact]
    public async Task InitProducerId_hands_out_fresh_ids_bumps_epochs_and_defers_transactions()
    {
        InitProducerIdResponse a = (await _f.CallAsync<InitProducerIdResponse>(_f.InitProducerId, new InitProducerIdRequest { TransactionalId = null, ProducerId = -1, ProducerEpoch = -1 }, 0))!;
        InitProducerIdResponse b = (await _f.CallAsync<InitProducerIdResponse>(_f.InitProducerId, new InitProducerIdRequest { TransactionalId = null, ProducerId = -1, ProducerEpoch = -1 }, 5))!;
        Assert.Equal(0, a.ErrorCode);
        Assert.NotEqual(a.ProducerId, b.ProducerId);
        Assert.Equal(0, b.ProducerEpoch);

        InitProducerIdResponse bumped = (await _f.CallAsync<InitProducerIdResponse>(_f.InitProducerId, new InitProducerIdRequest { TransactionalId = null, ProducerId = b.ProducerId, ProducerEpoch = 0 }, 4))!;
        Assert.Equal((b.ProducerId, (short)1), (bumped.ProducerId, bumped.ProducerEpoch));
        InitProducerIdResponse foreign = (await _f.CallAsync<InitProducerIdResponse>(_f.InitProducerId, new InitProducerIdRequest { TransactionalId = null, ProducerId = 1L << 40, ProducerEpoch = 0 }, 4))!;
        Assert.Equal((short)ErrorCode.InvalidProducerIdMapping, foreign.ErrorCode);
        InitProducerIdResponse txn = (await _f.CallAsync<InitProducerIdResponse>(_f.InitProducerId, new InitProducerIdRequest { TransactionalId = "tx", TransactionTimeoutMs = 60000, ProducerId = -1, ProducerEpoch = -1 }, 4))!;
        Assert.Equal((short)ErrorCode.CoordinatorNotAvailable, txn.ErrorCode);
    }
}
