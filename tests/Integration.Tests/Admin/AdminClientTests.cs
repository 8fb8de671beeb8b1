using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.Integration.Tests.Admin;

/// <summary>
/// The admin APIs (CreateTopics, DeleteTopics, DescribeConfigs, IncrementalAlterConfigs,
/// CreatePartitions, DeleteRecords) driven by Confluent.Kafka's AdminClient (librdkafka) against
/// the real broker, so the wire encoding and the error codes are what a real client sees.
/// </summary>
public sealed class AdminClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static IAdminClient Admin(TestBroker broker) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers, SocketTimeoutMs = 10_000 }).Build();

    private static Task CreateAsync(IAdminClient admin, string topic, int partitions = 1, Dictionary<string, string>? configs = null) =>
        admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }],
            new CreateTopicsOptions { RequestTimeout = Timeout, OperationTimeout = Timeout }).WaitAsync(Timeout);

    private static int PartitionCount(IAdminClient admin, string topic) =>
        admin.GetMetadata(topic, Timeout).Topics.Single(t => t.Topic == topic).Partitions.Count;

    [Fact(Timeout = 60_000)]
    public async Task CreateTopic_ThenCreatingAgain_FailsWithTopicAlreadyExists()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-create");

        await CreateAsync(admin, topic, partitions: 3);
        Assert.Equal(3, PartitionCount(admin, topic));

        var e = await Assert.ThrowsAsync<CreateTopicsException>(() => CreateAsync(admin, topic));
        Assert.Equal(ErrorCode.TopicAlreadyExists, e.Results.Single().Error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task CreateTopic_WithReplicationFactorAboveBrokerCount_FailsWithInvalidReplicationFactor()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-rf");

        var e = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 3 }],
            new CreateTopicsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, e.Results.Single().Error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task CreateTopic_WithUnknownConfig_FailsWithInvalidConfig()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-badcfg");

        var e = await Assert.ThrowsAsync<CreateTopicsException>(() => CreateAsync(admin, topic, configs: new() { ["retention.ms"] = "not-a-number" }));
        Assert.Equal(ErrorCode.InvalidConfig, e.Results.Single().Error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task DeleteTopic_RemovesIt_AndDeletingAgainFails()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-delete");
        await CreateAsync(admin, topic);

        await admin.DeleteTopicsAsync([topic], new DeleteTopicsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);

        var e = await Assert.ThrowsAsync<DeleteTopicsException>(() =>
            admin.DeleteTopicsAsync([topic], new DeleteTopicsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, e.Results.Single().Error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task DescribeConfigs_ShowsOverrideAndDefaults()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-describe");
        await CreateAsync(admin, topic, configs: new() { ["retention.ms"] = "123456" });

        ConfigEntryResult retention = await DescribeAsync(admin, topic, "retention.ms");
        Assert.Equal("123456", retention.Value);
        Assert.False(retention.IsDefault);
        Assert.Equal(ConfigSource.DynamicTopicConfig, retention.Source);

        ConfigEntryResult cleanup = await DescribeAsync(admin, topic, "cleanup.policy");
        Assert.Equal("delete", cleanup.Value);
        Assert.True(cleanup.IsDefault);
    }

    [Fact(Timeout = 60_000)]
    public async Task IncrementalAlterConfigs_SetRetention_IsReadBack_AndDeleteRestoresDefault()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-alter");
        await CreateAsync(admin, topic);
        string defaultRetention = (await DescribeAsync(admin, topic, "retention.ms")).Value;

        await AlterAsync(admin, topic, "retention.ms", "3600000", AlterConfigOpType.Set);
        Assert.Equal("3600000", (await DescribeAsync(admin, topic, "retention.ms")).Value);

        await AlterAsync(admin, topic, "retention.ms", null, AlterConfigOpType.Delete);
        ConfigEntryResult restored = await DescribeAsync(admin, topic, "retention.ms");
        Assert.Equal(defaultRetention, restored.Value);
        Assert.True(restored.IsDefault);
    }

    [Fact(Timeout = 60_000)]
    public async Task IncrementalAlterConfigs_BadValueOrUnknownKey_FailsWithInvalidConfig_AndChangesNothing()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-alterbad");
        await CreateAsync(admin, topic, configs: new() { ["retention.ms"] = "5000" });

        var bad = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => AlterAsync(admin, topic, "retention.ms", "soon", AlterConfigOpType.Set));
        Assert.Equal(ErrorCode.InvalidConfig, bad.Results.Single().Error.Code);

        var unknown = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => AlterAsync(admin, topic, "no.such.config", "1", AlterConfigOpType.Set));
        Assert.Equal(ErrorCode.InvalidConfig, unknown.Results.Single().Error.Code);

        Assert.Equal("5000", (await DescribeAsync(admin, topic, "retention.ms")).Value);
    }

    [Fact(Timeout = 60_000)]
    public async Task CreatePartitions_GrowsTopic_AndShrinkingFails()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-partitions");
        await CreateAsync(admin, topic, partitions: 1);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 4 }],
            new CreatePartitionsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        Assert.Equal(4, PartitionCount(admin, topic));

        var e = await Assert.ThrowsAsync<CreatePartitionsException>(() => admin.CreatePartitionsAsync(
            [new PartitionsSpecification { Topic = topic, IncreaseTo = 2 }], new CreatePartitionsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.InvalidPartitions, e.Results.Single().Error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task DeleteRecords_MovesLogStartOffset_AndBeyondHighWatermarkFails()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-deleterecords");
        await CreateAsync(admin, topic);
        using (IProducer<Null, string> producer = new ProducerBuilder<Null, string>(
                   new ProducerConfig { BootstrapServers = broker.BootstrapServers, MessageTimeoutMs = 15_000 }).Build())
        {
            for (int i = 0; i < 10; i++)
            {
                await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" }).WaitAsync(Timeout);
            }
        }

        var tp = new TopicPartition(topic, 0);
        List<DeleteRecordsResult> deleted = await admin.DeleteRecordsAsync([new TopicPartitionOffset(tp, 4)],
            new DeleteRecordsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        Assert.Equal(4, deleted.Single().Offset.Value);

        using (IConsumer<Ignore, string> consumer = new ConsumerBuilder<Ignore, string>(
                   new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = TestBroker.UniqueTopic("g") }).Build())
        {
            WatermarkOffsets marks = consumer.QueryWatermarkOffsets(tp, Timeout);
            Assert.Equal(4, marks.Low.Value);
            Assert.Equal(10, marks.High.Value);
        }

        var e = await Assert.ThrowsAsync<DeleteRecordsException>(() => admin.DeleteRecordsAsync([new TopicPartitionOffset(tp, 11)],
            new DeleteRecordsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.OffsetOutOfRange, e.Results.Single().Error.Code);
    }

    private static async Task<ConfigEntryResult> DescribeAsync(IAdminClient admin, string topic, string key)
    {
        List<DescribeConfigsResult> results = await admin.DescribeConfigsAsync(
            [new ConfigResource { Type = ResourceType.Topic, Name = topic }],
            new DescribeConfigsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        return results.Single().Entries[key];
    }

    private static Task AlterAsync(IAdminClient admin, string topic, string key, string? value, AlterConfigOpType op) =>
        admin.IncrementalAlterConfigsAsync(
            new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [new ConfigResource { Type = ResourceType.Topic, Name = topic }] = [new ConfigEntry { Name = key, Value = value, IncrementalOperation = op }],
            },
            new IncrementalAlterConfigsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
}
