using System.Buffers.Binary;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using Broker.Storage;

namespace Broker.Tests.DataPath;

public sealed class ProduceHandlerTests : IDisposable
{
    private readonly DataPathFixture _f = new();

    public void Dispose() => _f.Dispose();

    private async Task<ProduceResponse.PartitionProduceResponse> ProduceAsync(string topic, byte[] batch, short acks = -1, short version = 11, int partition = 0)
    {
        ProduceResponse response = (await _f.CallAsync<ProduceResponse>(_f.Produce, DataPathFixture.ProduceRequestFor(topic, partition, batch, acks), version))!;
        return Assert.Single(Assert.Single(response.Responses).PartitionResponses);
    }

    [Fact]
    public async Task Appends_get_increasing_base_offsets_at_every_version()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        long expected = 0;
        for (short version = 3; version <= 11; version++)
        {
            ProduceResponse.PartitionProduceResponse r = await ProduceAsync(topic, DataPathFixture.Batch(3), version: version);
            Assert.Equal(0, r.ErrorCode);
            Assert.Equal(expected, r.BaseOffset);
            Assert.Equal(-1, r.LogAppendTimeMs);
            expected += 3;
        }

        Assert.Equal(expected, _f.Replicas.GetPartition(new TopicPartition(topic, 0))!.HighWatermark);
    }

    [Fact]
    public async Task Unknown_topic_and_partition_are_UNKNOWN_TOPIC_OR_PARTITION()
    {
        string topic = DataPathFixture.UniqueTopic();
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await ProduceAsync(topic, DataPathFixture.Batch(1))).ErrorCode);
        _f.Store.CreateTopic(topic, 1, 1);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await ProduceAsync(topic, DataPathFixture.Batch(1), partition: 1)).ErrorCode);
        Assert.Null(_f.Store.GetTopic(DataPathFixture.UniqueTopic())); // produce never auto-creates
    }

    [Fact]
    public async Task A_bad_crc_is_CORRUPT_MESSAGE_and_nothing_is_written()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        byte[] batch = DataPathFixture.Batch(2);
        batch[^1] ^= 0xFF; // flip a record byte: the CRC no longer matches
        Assert.Equal((short)ErrorCode.CorruptMessage, (await ProduceAsync(topic, batch)).ErrorCode);
        Assert.Equal(0, _f.Replicas.GetPartition(new TopicPartition(topic, 0))!.LogEndOffset);
    }

    [Fact]
    public async Task A_batch_above_max_message_bytes_is_MESSAGE_TOO_LARGE()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1, new Dictionary<string, string> { ["max.message.bytes"] = "1000" });
        Assert.Equal((short)ErrorCode.MessageTooLarge, (await ProduceAsync(topic, DataPathFixture.Batch(1, valueBytes: 2000))).ErrorCode);
        Assert.Equal(0, (await ProduceAsync(topic, DataPathFixture.Batch(1, valueBytes: 100))).ErrorCode);
    }

    [Fact]
    public async Task Acks_zero_sends_no_response_but_appends()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        ProduceResponse? response = await _f.CallAsync<ProduceResponse>(_f.Produce, DataPathFixture.ProduceRequestFor(topic, 0, DataPathFixture.Batch(4), acks: 0), 9);
        Assert.Null(response);
        Assert.Equal(4, _f.Replicas.GetPartition(new TopicPartition(topic, 0))!.HighWatermark);
    }

    [Fact]
    public async Task Invalid_acks_and_internal_topics_are_refused()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        _f.Store.CreateTopic("__consumer_offsets", 1, 1);
        Assert.Equal((short)ErrorCode.InvalidRequiredAcks, (await ProduceAsync(topic, DataPathFixture.Batch(1), acks: 2)).ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidTopicException, (await ProduceAsync("__consumer_offsets", DataPathFixture.Batch(1))).ErrorCode);
    }

    [Fact]
    public async Task Min_insync_replicas_above_the_isr_is_NOT_ENOUGH_REPLICAS_for_acks_all_only()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1, new Dictionary<string, string> { ["min.insync.replicas"] = "2" });
        Assert.Equal((short)ErrorCode.NotEnoughReplicas, (await ProduceAsync(topic, DataPathFixture.Batch(1), acks: -1)).ErrorCode);
        Assert.Equal(0, (await ProduceAsync(topic, DataPathFixture.Batch(1), acks: 1)).ErrorCode);
    }

    [Fact]
    public async Task Idempotent_retry_returns_the_original_offset_and_a_gap_is_OUT_OF_ORDER_SEQUENCE_NUMBER()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        InitProducerIdResponse pid = (await _f.CallAsync<InitProducerIdResponse>(_f.InitProducerId, new InitProducerIdRequest { TransactionalId = null, ProducerId = -1, ProducerEpoch = -1 }, 4))!;
        long id = pid.ProducerId;
        Assert.Equal(0, (await ProduceAsync(topic, DataPathFixture.Batch(1))).BaseOffset);
        Assert.Equal(1, (await ProduceAsync(topic, DataPathFixture.Batch(2, producerId: id, epoch: 0, baseSequence: 0))).BaseOffset);
        Assert.Equal(3, (await ProduceAsync(topic, DataPathFixture.Batch(2, producerId: id, epoch: 0, baseSequence: 2))).BaseOffset);
        ProduceResponse.PartitionProduceResponse retry = await ProduceAsync(topic, DataPathFixture.Batch(2, producerId: id, epoch: 0, baseSequence: 0));
        Assert.Equal(0, retry.ErrorCode);
        Assert.Equal(1, retry.BaseOffset);
        Assert.Equal((short)ErrorCode.OutOfOrderSequenceNumber, (await ProduceAsync(topic, DataPathFixture.Batch(1, producerId: id, epoch: 0, baseSequence: 7))).ErrorCode);
        Assert.Equal(5, _f.Replicas.GetPartition(new TopicPartition(topic, 0))!.LogEndOffset);
    }

    [Fact]
    public async Task LogAppendTime_topics_stamp_the_batch_and_answer_the_time()
    {
        string topic = DataPathFixture.UniqueTopic();
        Guid id = _f.Store.CreateTopic(topic, 1, 1, new Dictionary<string, string> { ["message.timestamp.type"] = "LogAppendTime" }).Topic!.TopicId;
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // An old CreateTime would be INVALID_TIMESTAMP-checked on a CreateTime topic; LogAppendTime ignores it.
        ProduceResponse.PartitionProduceResponse r = await ProduceAsync(topic, DataPathFixture.Batch(2, timestamp: 1000));
        Assert.Equal(0, r.ErrorCode);
        Assert.InRange(r.LogAppendTimeMs, before, before + 60_000);

        FetchResponse fetch = (await _f.CallAsync<FetchResponse>(_f.Fetch, DataPathFixture.FetchRequestFor(topic, id, 0, 0, 12), 12))!;
        BaseRecords records = Assert.Single(Assert.Single(fetch.Responses).Partitions).Records!;
        byte[] bytes = new byte[records.SizeInBytes];
        records.CopyTo(bytes);
        Assert.True(RecordBatchHeader.TryRead(bytes, out RecordBatchHeader header));
        Assert.Equal(TimestampType.LogAppendTime, header.TimestampType);
        Assert.Equal(r.LogAppendTimeMs, header.MaxTimestamp);
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(bytes));
    }

    [Fact]
    public async Task A_CreateTime_far_in_the_future_is_INVALID_TIMESTAMP()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        long future = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 86_400_000;
        Assert.Equal((short)ErrorCode.InvalidTimestamp, (await ProduceAsync(topic, DataPathFixture.Batch(1, timestamp: future))).ErrorCode);
    }

    [Theory]
    [InlineData("gzip", CompressionType.None, CompressionType.Gzip)]
    [InlineData("uncompressed", CompressionType.Lz4, CompressionType.None)]
    [InlineData("zstd", CompressionType.Snappy, CompressionType.Zstd)]
    [InlineData("producer", CompressionType.Snappy, CompressionType.Snappy)]
    public async Task The_topic_compression_type_recompresses_batches(string topicCompression, CompressionType sent, CompressionType stored)
    {
        string topic = DataPathFixture.UniqueTopic();
        Guid id = _f.Store.CreateTopic(topic, 1, 1, new Dictionary<string, string> { ["compression.type"] = topicCompression }).Topic!.TopicId;
        Assert.Equal(0, (await ProduceAsync(topic, DataPathFixture.Batch(10, sent, producerId: 5, epoch: 0, baseSequence: 0))).ErrorCode);
        Assert.Equal(0, (await ProduceAsync(topic, DataPathFixture.Batch(10, sent, producerId: 5, epoch: 0, baseSequence: 10))).ErrorCode);

        FetchResponse fetch = (await _f.CallAsync<FetchResponse>(_f.Fetch, DataPathFixture.FetchRequestFor(topic, id, 0, 0, 13), 13))!;
        BaseRecords records = Assert.Single(Assert.Single(fetch.Responses).Partitions).Records!;
        byte[] bytes = new byte[records.SizeInBytes];
        records.CopyTo(bytes);
        Assert.True(RecordBatchHeader.TryRead(bytes, out RecordBatchHeader header));
        Assert.Equal(stored, header.CompressionType);
        Assert.Equal(5, header.ProducerId);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), DataPathFixture.RecordOffsets(records));
        Assert.Equal(ErrorCode.None, RecordBatchValidator.Validate(bytes.AsSpan(0, header.SizeInBytes)));
    }

    [Fact]
    public async Task Several_partitions_in_one_request_answer_in_request_order()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 3, 1);
        var request = new ProduceRequest { Acks = 1, TimeoutMs = 1000 };
        var data = new ProduceRequest.TopicProduceData { Name = topic };
        foreach (int p in new[] { 2, 0, 7 })
        {
            data.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = p, Records = new MemoryRecords(DataPathFixture.Batch(1)) });
        }

        request.TopicData.Add(data);
        ProduceResponse response = (await _f.CallAsync<ProduceResponse>(_f.Produce, request, 8))!;
        List<ProduceResponse.PartitionProduceResponse> partitions = Assert.Single(response.Responses).PartitionResponses;
        Assert.Equal(new[] { 2, 0, 7 }, partitions.Select(p => p.Index));
        Assert.Equal(new short[] { 0, 0, (short)ErrorCode.UnknownTopicOrPartition }, partitions.Select(p => p.ErrorCode));
    }

    [Fact]
    public async Task Two_batches_in_one_partition_are_INVALID_RECORD_with_a_record_error()
    {
        string topic = DataPathFixture.UniqueTopic();
        _f.Store.CreateTopic(topic, 1, 1);
        byte[] two = DataPathFixture.Batch(1).Concat(DataPathFixture.Batch(1)).ToArray();
        ProduceResponse.PartitionProduceResponse r = await ProduceAsync(topic, two, version: 8);
        Assert.Equal((short)ErrorCode.InvalidRecord, r.ErrorCode);
        Assert.NotNull(r.ErrorMessage);
    }
}
