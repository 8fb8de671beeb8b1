using System.Buffers.Binary;
using Broker.Integration.Tests.Infrastructure;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using Microsoft.Extensions.Logging;
using static Broker.Integration.Tests.Infrastructure.RawRecords;

namespace Broker.Integration.Tests.Network;

/// <summary>One broker shared by the bad-input tests (each uses its own connections and topics).</summary>
public sealed class BadInputBroker : IAsyncLifetime
{
    public const int SocketRequestMaxBytes = 64 * 1024;

    public TestBroker Broker { get; private set; } = null!;

    public LogCapture Logs => Broker.Logs!;

    public async Task InitializeAsync()
    {
        Broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["socket.request.max.bytes"] = SocketRequestMaxBytes.ToString() }, captureLogs: true);
    }

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

/// <summary>
/// Bad input over a real socket: each case gets Kafka's error code, or a closed connection with a
/// log line, and a second connection is served afterwards (the broker keeps going).
/// </summary>
public sealed class BadInputTests(BadInputBroker fixture) : IClassFixture<BadInputBroker>
{
    private static readonly TimeSpan LogTimeout = TimeSpan.FromSeconds(10);

    private TestBroker Broker => fixture.Broker;

    [Fact]
    public async Task GarbageHeader_ClientIdLengthPastTheFrame_ClosesAndLogs()
    {
        await using RawConnection bad = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        // api key 18 v0 (header v1), correlation id 4242, then a client id "of 500 bytes" with 2 bytes present.
        byte[] frame = [0, 0, 0, 12, 0, 18, 0, 0, 0, 0, 0x10, 0x92, 0x01, 0xF4, (byte)'a', (byte)'b'];
        await bad.WriteAsync(frame);

        await bad.AssertClosedByBrokerAsync();
        await fixture.Logs.WaitForAsync(LogLevel.Warning, LogTimeout, "malformed request header", "closing");
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task LengthPrefixLargerThanTheBytesSent_ThenClientCloses_BrokerClosesWithoutAnswering()
    {
        await using RawConnection bad = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        byte[] valid = RawConnection.Frame(RawConnection.ApiVersions(), ApiVersionsRequest.ApiKey, 0, 1);
        BinaryPrimitives.WriteInt32BigEndian(valid, valid.Length - 4 + 100); // claims 100 bytes more than follow
        await bad.WriteAsync(valid);
        bad.ShutdownSend();

        await bad.AssertClosedByBrokerAsync();
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task NegativeLength_ClosesAndLogs()
    {
        await using RawConnection bad = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        await bad.WriteAsync([0xFF, 0xFF, 0xFF, 0xFE, 0, 18, 0, 0]);

        await bad.AssertClosedByBrokerAsync();
        await fixture.Logs.WaitForAsync(LogLevel.Warning, LogTimeout, "request size -2", "closing");
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task LengthAboveSocketRequestMaxBytes_ClosesBeforeTheBodyIsSent()
    {
        await using RawConnection bad = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        int size = BadInputBroker.SocketRequestMaxBytes + 1;
        byte[] prefix = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, size);
        // Only the size prefix: the broker must refuse it without waiting for (or buffering) the body.
        await bad.WriteAsync(prefix);

        await bad.AssertClosedByBrokerAsync();
        await fixture.Logs.WaitForAsync(LogLevel.Warning, LogTimeout, $"request size {size}", "socket.request.max.bytes");
        await AssertBrokerServesAsync();
    }

    [Theory]
    [InlineData(999)]   // no such API
    [InlineData(4)]     // LeaderAndIsr: a spec exists, the broker does not serve it (Kafka 4 removed it)
    public async Task UnknownApiKey_Closes(short apiKey)
    {
        await using RawConnection bad = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        var header = new RequestHeader { RequestApiKey = apiKey, RequestApiVersion = 0, CorrelationId = 7, ClientId = "unknown-api" };
        byte[] frame = new byte[4 + header.ComputeSize(1) + 8];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        var writer = new KafkaWriter(frame.AsSpan(4));
        header.Write(ref writer, 1);
        await bad.WriteAsync(frame);

        await bad.AssertClosedByBrokerAsync();
        await fixture.Logs.WaitForAsync(LogLevel.Warning, LogTimeout, $"api key {apiKey}", "closing");
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task UnsupportedApiVersionsVersion_AnsweredWithV0ErrorAndOurRange()
    {
        await using RawConnection client = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        // A future ApiVersions version: the header stays v2-shaped, the body is unknown to us.
        var header = new RequestHeader { RequestApiKey = ApiVersionsRequest.ApiKey, RequestApiVersion = 99, CorrelationId = 31, ClientId = "future-client" };
        byte[] frame = new byte[4 + header.ComputeSize(2) + 3];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        var writer = new KafkaWriter(frame.AsSpan(4));
        header.Write(ref writer, 2);
        await client.WriteAsync(frame);

        ApiVersionsResponse response = await client.ReceiveAsync<ApiVersionsResponse>(ApiVersionsRequest.ApiKey, 0, 31);
        Assert.Equal((short)ErrorCode.UnsupportedVersion, response.ErrorCode);
        ApiVersionsResponse.ApiVersion range = Assert.Single(response.ApiKeys);
        Assert.Equal(ApiVersionsRequest.ApiKey, range.ApiKey);
        Assert.Equal(0, range.MinVersion);
        Assert.True(range.MaxVersion >= 3);

        // KIP-511: the client retries with a version in the range, on the same connection.
        ApiVersionsResponse retried = await client.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), range.MaxVersion);
        Assert.Equal(0, retried.ErrorCode);
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task UnsupportedVersionOfAnotherApi_Closes()
    {
        await using RawConnection bad = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        var header = new RequestHeader { RequestApiKey = MetadataRequest.ApiKey, RequestApiVersion = 99, CorrelationId = 8, ClientId = "future-client" };
        byte[] frame = new byte[4 + header.ComputeSize(2) + 2];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        var writer = new KafkaWriter(frame.AsSpan(4));
        header.Write(ref writer, 2);
        await bad.WriteAsync(frame);

        await bad.AssertClosedByBrokerAsync();
        await fixture.Logs.WaitForAsync(LogLevel.Warning, LogTimeout, "version 99 of api key 3", "closing");
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task TruncatedBodyBehindAValidHeader_Closes()
    {
        string topic = TestBroker.UniqueTopic("trunc");
        await using RawConnection bad = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        byte[] whole = RawConnection.Frame(Produce(topic, 0, Batch(2, 16), acks: 1), ProduceRequest.ApiKey, 9, 5);
        byte[] truncated = whole[..^20];
        BinaryPrimitives.WriteInt32BigEndian(truncated, truncated.Length - 4); // the length is honest, the body is short
        await bad.WriteAsync(truncated);

        await bad.AssertClosedByBrokerAsync();
        await fixture.Logs.WaitForAsync(LogLevel.Warning, LogTimeout, "malformed body of api key 0 v9", "closing");
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task UnknownPartitionOfAKnownTopic_UnknownTopicOrPartition()
    {
        string topic = TestBroker.UniqueTopic("part");
        await using RawConnection client = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        await CreateTopicAsync(client, topic, partitions: 2);

        ProduceResponse produce = await client.SendAsync<ProduceResponse>(Produce(topic, 7, Batch(1, 16), acks: 1), 9);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(Assert.Single(produce.Responses).PartitionResponses).ErrorCode);

        var fetch = new FetchRequest { ReplicaId = -1, MaxWaitMs = 0, MaxBytes = 1 << 20, SessionEpoch = -1 };
        fetch.Topics.Add(new FetchRequest.FetchTopic { Topic = topic, Partitions = { new FetchRequest.FetchPartition { Partition = 7, PartitionMaxBytes = 1 << 20 } } });
        FetchResponse fetched = await client.SendAsync<FetchResponse>(fetch, 12);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(Assert.Single(fetched.Responses).Partitions).ErrorCode);

        // Partition 1 exists: the same connection still produces.
        ProduceResponse ok = await client.SendAsync<ProduceResponse>(Produce(topic, 1, Batch(1, 16), acks: 1), 9);
        Assert.Equal(0, Assert.Single(Assert.Single(ok.Responses).PartitionResponses).ErrorCode);
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task CrcMismatch_UnknownTopic_AndOversizedBatch_GetTheirErrorCodes()
    {
        string topic = TestBroker.UniqueTopic("crc");
        await using RawConnection client = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        await CreateTopicAsync(client, topic, partitions: 1);

        byte[] corrupt = Batch(3, 16);
        corrupt[^3] ^= 0x5A; // a record byte: covered by the CRC-32C
        Assert.Equal((short)ErrorCode.CorruptMessage, await ProduceErrorAsync(client, topic, corrupt));
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, await ProduceErrorAsync(client, TestBroker.UniqueTopic("nosuch"), Batch(1, 16)));
        // This broker's frames stop at 64 KiB, below message.max.bytes: lower the topic's max.message.bytes instead.
        await AlterMaxMessageBytesAsync(client, topic, 1024);
        Assert.Equal((short)ErrorCode.MessageTooLarge, await ProduceErrorAsync(client, topic, Batch(1, 4096)));

        Assert.Equal((short)ErrorCode.None, await ProduceErrorAsync(client, topic, Batch(2, 16)));
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task AcksZeroProduceThatFails_ClosesTheConnectionWithALogLine()
    {
        string topic = TestBroker.UniqueTopic("acks0");
        await using RawConnection client = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        await CreateTopicAsync(client, topic, partitions: 1);

        // A successful acks=0 produce gets no response and leaves the connection open.
        await client.WriteAsync(RawConnection.Frame(Produce(topic, 0, Batch(1, 16), acks: 0), ProduceRequest.ApiKey, 9, client.NextCorrelationId()));
        Assert.Equal(0, (await client.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3)).ErrorCode);

        // A failed one (partition 5 does not exist) closes it: the client learns of the error that way.
        await client.WriteAsync(RawConnection.Frame(Produce(topic, 5, Batch(1, 16), acks: 0), ProduceRequest.ApiKey, 9, client.NextCorrelationId()));
        await client.AssertClosedByBrokerAsync();
        await fixture.Logs.WaitForAsync(LogLevel.Information, LogTimeout, $"{topic}-5 UnknownTopicOrPartition", "acks=0", "closing");
        await AssertBrokerServesAsync();
    }

    [Theory]
    [InlineData("cleanup.policy", "bogus")]
    [InlineData("retention.ms", "not-a-number")]
    [InlineData("no.such.topic.config", "1")]
    public async Task CreateTopicsWithAnInvalidConfig_InvalidConfig(string key, string value)
    {
        string topic = TestBroker.UniqueTopic("cfg");
        await using RawConnection client = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        var request = new CreateTopicsRequest { TimeoutMs = 10000 };
        request.Topics.Add(new CreateTopicsRequest.CreatableTopic
        {
            Name = topic, NumPartitions = 1, ReplicationFactor = 1,
            Configs = { new CreateTopicsRequest.CreatableTopicConfig { Name = key, Value = value } },
        });

        CreateTopicsResponse response = await client.SendAsync<CreateTopicsResponse>(request, 7);

        CreateTopicsResponse.CreatableTopicResult result = Assert.Single(response.Topics);
        Assert.Equal((short)ErrorCode.InvalidConfig, result.ErrorCode);
        Assert.Contains(key, result.ErrorMessage ?? "");
        MetadataResponse metadata = await client.SendAsync<MetadataResponse>(new MetadataRequest { AllowAutoTopicCreation = false, Topics = [new MetadataRequest.MetadataRequestTopic { Name = topic }] }, 12);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(metadata.Topics).ErrorCode);
        await AssertBrokerServesAsync();
    }

    [Theory]
    [InlineData("bad/name")]
    [InlineData("..")]
    [InlineData("has space")]
    public async Task CreateTopicsWithAnInvalidName_InvalidTopicException(string name)
    {
        await using RawConnection client = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        var request = new CreateTopicsRequest { TimeoutMs = 10000 };
        request.Topics.Add(new CreateTopicsRequest.CreatableTopic { Name = name, NumPartitions = 1, ReplicationFactor = 1 });

        CreateTopicsResponse response = await client.SendAsync<CreateTopicsResponse>(request, 7);

        Assert.Equal((short)ErrorCode.InvalidTopicException, Assert.Single(response.Topics).ErrorCode);
        await AssertBrokerServesAsync();
    }

    [Fact]
    public async Task TooLongTopicName_InvalidTopicException()
    {
        await CreateTopicsWithAnInvalidName_InvalidTopicException(new string('x', 250));
    }

    [Fact]
    public async Task PipelinedRequests_AreAnsweredInOrder()
    {
        await using RawConnection client = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        const int count = 200; // more than max.inflight.requests.per.connection's default: reading pauses and resumes
        var frames = new List<byte>();
        for (int i = 1; i <= count; i++)
        {
            IRequest request = i % 2 == 0 ? RawConnection.ApiVersions() : new MetadataRequest { Topics = [] };
            short apiKey = i % 2 == 0 ? ApiVersionsRequest.ApiKey : MetadataRequest.ApiKey;
            frames.AddRange(RawConnection.Frame(request, apiKey, apiKey == MetadataRequest.ApiKey ? (short)12 : (short)3, i));
        }

        await client.WriteAsync(frames.ToArray());

        for (int i = 1; i <= count; i++)
        {
            if (i % 2 == 0) Assert.Equal(0, (await client.ReceiveAsync<ApiVersionsResponse>(ApiVersionsRequest.ApiKey, 3, i)).ErrorCode);
            else await client.ReceiveAsync<MetadataResponse>(MetadataRequest.ApiKey, 12, i);
        }
    }

    /// <summary>A fresh connection completes ApiVersions and Metadata round trips.</summary>
    private async Task AssertBrokerServesAsync()
    {
        await using RawConnection healthy = await RawConnection.ConnectAsync(Broker.BootstrapServers);
        ApiVersionsResponse versions = await healthy.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3);
        Assert.Equal(0, versions.ErrorCode);
        Assert.NotEmpty(versions.ApiKeys);
        MetadataResponse metadata = await healthy.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 12);
        Assert.Single(metadata.Brokers);
    }

    private static async Task CreateTopicAsync(RawConnection client, string topic, int partitions)
    {
        var request = new CreateTopicsRequest { TimeoutMs = 10000 };
        request.Topics.Add(new CreateTopicsRequest.CreatableTopic { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 });
        CreateTopicsResponse response = await client.SendAsync<CreateTopicsResponse>(request, 7);
        Assert.Equal(0, Assert.Single(response.Topics).ErrorCode);
    }

    private static async Task<short> ProduceErrorAsync(RawConnection client, string topic, byte[] records)
    {
        ProduceResponse response = await client.SendAsync<ProduceResponse>(Produce(topic, 0, records, acks: -1), 9);
        return Assert.Single(Assert.Single(response.Responses).PartitionResponses).ErrorCode;
    }

    private static async Task AlterMaxMessageBytesAsync(RawConnection client, string topic, int maxBytes)
    {
        var request = new IncrementalAlterConfigsRequest();
        request.Resources.Add(new IncrementalAlterConfigsRequest.AlterConfigsResource
        {
            ResourceType = 2, // TOPIC
            ResourceName = topic,
            Configs = { new IncrementalAlterConfigsRequest.AlterableConfig { Name = "max.message.bytes", ConfigOperation = 0, Value = maxBytes.ToString() } },
        });
        IncrementalAlterConfigsResponse response = await client.SendAsync<IncrementalAlterConfigsResponse>(request, 1);
        Assert.Equal(0, Assert.Single(response.Responses).ErrorCode);
    }

    private static ProduceRequest Produce(string topic, int partition, byte[] records, short acks) => new()
    {
        Acks = acks,
        TimeoutMs = 5000,
        TopicData = { new ProduceRequest.TopicProduceData { Name = topic, PartitionData = { new ProduceRequest.PartitionProduceData { Index = partition, Records = new MemoryRecords(records) } } } },
    };
}
