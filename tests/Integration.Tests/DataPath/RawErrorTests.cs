using Broker.Integration.Tests.Infrastructure;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using static Broker.Integration.Tests.Infrastructure.RawRecords;

namespace Broker.Integration.Tests.DataPath;

/// <summary>Requests a real client would not send, built with the generated messages and sent raw.</summary>
public sealed class RawErrorTests
{
    private static ProduceRequest Produce(string topic, byte[] records, short acks = -1) => new()
    {
        TransactionalId = null,
        Acks = acks,
        TimeoutMs = 5000,
        TopicData = { new ProduceRequest.TopicProduceData { Name = topic, PartitionData = { new ProduceRequest.PartitionProduceData { Index = 0, Records = new MemoryRecords(records) } } } },
    };

    private static async Task<short> ProduceErrorAsync(RawKafkaClient client, string topic, byte[] records, short version, CancellationToken ct)
    {
        ProduceResponse response = await client.SendAsync<ProduceResponse>(Produce(topic, records), ProduceRequest.ApiKey, version, ct);
        return Assert.Single(Assert.Single(response.Responses).PartitionResponses).ErrorCode;
    }

    private static async Task CreateTopicAsync(RawKafkaClient client, string topic, CancellationToken ct)
    {
        var request = new MetadataRequest { AllowAutoTopicCreation = true, Topics = [new MetadataRequest.MetadataRequestTopic { Name = topic }] };
        MetadataResponse response = await client.SendAsync<MetadataResponse>(request, MetadataRequest.ApiKey, 12, ct);
        Assert.Equal(0, Assert.Single(response.Topics).ErrorCode);
    }

    [Fact]
    public async Task Crc_error_unknown_topic_and_too_large_get_their_error_codes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using TestBroker broker = await TestBroker.StartAsync();
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(client, topic, cts.Token);

        byte[] corrupt = Batch(3, 8);
        corrupt[^2] ^= 0x5A;
        Assert.Equal((short)ErrorCode.CorruptMessage, await ProduceErrorAsync(client, topic, corrupt, 9, cts.Token));
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, await ProduceErrorAsync(client, TestBroker.UniqueTopic(), Batch(1, 8), 9, cts.Token));
        Assert.Equal((short)ErrorCode.MessageTooLarge, await ProduceErrorAsync(client, topic, Batch(1, 2 * 1024 * 1024), 9, cts.Token));
        Assert.Equal((short)ErrorCode.None, await ProduceErrorAsync(client, topic, Batch(2, 8), 11, cts.Token));

        // The good batch landed at offset 0: nothing of the refused ones was written.
        var fetch = new FetchRequest
        {
            ReplicaId = -1, MaxWaitMs = 0, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics = { new FetchRequest.FetchTopic { Topic = topic, Partitions = { new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 } } } },
        };
        FetchResponse fetched = await client.SendAsync<FetchResponse>(fetch, FetchRequest.ApiKey, 12, cts.Token);
        FetchResponse.PartitionData data = fetched.Responses[0].Partitions[0];
        Assert.Equal(2, data.HighWatermark);
        byte[] bytes = new byte[data.Records!.SizeInBytes];
        data.Records.CopyTo(bytes);
        Assert.True(RecordBatchHeader.TryRead(bytes, out RecordBatchHeader header));
        Assert.Equal(0, header.BaseOffset);
        Assert.Equal(2, header.RecordCount);
    }

    [Fact]
    public async Task A_long_poll_fetch_is_answered_by_a_produce_on_another_connection()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using TestBroker broker = await TestBroker.StartAsync();
        await using RawKafkaClient consumer = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        await using RawKafkaClient producer = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(producer, topic, cts.Token);

        var fetch = new FetchRequest
        {
            ReplicaId = -1, MaxWaitMs = 30_000, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics = { new FetchRequest.FetchTopic { Topic = topic, Partitions = { new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 } } } },
        };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Task<FetchResponse> waiting = consumer.SendAsync<FetchResponse>(fetch, FetchRequest.ApiKey, 11, cts.Token);
        Assert.False(waiting.IsCompleted);
        Assert.Equal((short)ErrorCode.None, await ProduceErrorAsync(producer, topic, Batch(4, 8), 9, cts.Token));
        FetchResponse response = await waiting.WaitAsync(cts.Token);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(25), $"answered after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(4, response.Responses[0].Partitions[0].HighWatermark);
        Assert.True(response.Responses[0].Partitions[0].Records!.SizeInBytes > 0);
    }

    [Fact]
    public async Task A_long_poll_fetch_does_not_hold_up_the_next_request_on_its_own_connection()
    {
        // One connection pipelines a long-poll fetch and then a produce to the partition it waits
        // on. The produce must be received and dispatched while the fetch waits (the processing
        // loop runs inline on the receive thread, the fetch is completed inline by the append on
        // that same thread, and the send loop resumes inline too); the fetch is then answered
        // with the records, before the produce response, long before max wait.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using TestBroker broker = await TestBroker.StartAsync();
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic();
        await CreateTopicAsync(client, topic, cts.Token);

        var fetch = new FetchRequest
        {
            ReplicaId = -1, MaxWaitMs = 30_000, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics = { new FetchRequest.FetchTopic { Topic = topic, Partitions = { new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 } } } },
        };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int fetchId = await client.SendPipelinedAsync(fetch, FetchRequest.ApiKey, 11, cts.Token);
        int produceId = await client.SendPipelinedAsync(Produce(topic, Batch(4, 8), acks: 1), ProduceRequest.ApiKey, 9, cts.Token);

        FetchResponse fetched = await client.ReceiveAsync<FetchResponse>(FetchRequest.ApiKey, 11, fetchId, cts.Token);
        ProduceResponse produced = await client.ReceiveAsync<ProduceResponse>(ProduceRequest.ApiKey, 9, produceId, cts.Token);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(25), $"answered after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(4, fetched.Responses[0].Partitions[0].HighWatermark);
        Assert.True(fetched.Responses[0].Partitions[0].Records!.SizeInBytes > 0);
        Assert.Equal((short)ErrorCode.None, Assert.Single(Assert.Single(produced.Responses).PartitionResponses).ErrorCode);

        // And the connection still serves requests afterwards.
        Assert.Equal((short)ErrorCode.None, await ProduceErrorAsync(client, topic, Batch(1, 8), 9, cts.Token));
    }
}
