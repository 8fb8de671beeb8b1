using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.Integration.Tests.Admin;

/// <summary>validate_only on CreateTopics, legacy AlterConfigs' replace semantics, DeleteRecords with -1 (= high watermark).</summary>
public sealed class AdminValidateAndLegacyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static IAdminClient Admin(TestBroker broker) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers, SocketTimeoutMs = 10_000 }).Build();

    [Fact(Timeout = 60_000)]
    public async Task CreateTopics_ValidateOnly_CreatesNothing()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-validate");

        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 1 }],
            new CreateTopicsOptions { RequestTimeout = Timeout, ValidateOnly = true }).WaitAsync(Timeout);

        // Still absent: DescribeConfigs on it answers UNKNOWN_TOPIC_OR_PARTITION.
        var e = await Assert.ThrowsAsync<DescribeConfigsException>(() => admin.DescribeConfigsAsync(
            [new ConfigResource { Type = ResourceType.Topic, Name = topic }], new DescribeConfigsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, e.Results.Single().Error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task AlterConfigs_ReplacesTheWholeOverrideSet()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-legacy");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["retention.ms"] = "5000" } }],
            new CreateTopicsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

#pragma warning disable CS0618 // AlterConfigs is deprecated (KIP-339) but Kafka 4 still serves it; this tests our handler.
        await admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = [new ConfigEntry { Name = "segment.ms", Value = "600000" }] },
            new AlterConfigsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
#pragma warning restore CS0618

        DescribeConfigsResult described = (await admin.DescribeConfigsAsync([resource], new DescribeConfigsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout)).Single();
        Assert.Equal("600000", described.Entries["segment.ms"].Value);
        Assert.NotEqual("5000", described.Entries["retention.ms"].Value);
        Assert.NotEqual(ConfigSource.DynamicTopicConfig, described.Entries["retention.ms"].Source);
    }

    [Fact(Timeout = 60_000)]
    public async Task DeleteRecords_MinusOne_DeletesUpToHighWatermark()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-deleteall");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }],
            new CreateTopicsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        using (IProducer<Null, string> producer = new ProducerBuilder<Null, string>(
                   new ProducerConfig { BootstrapServers = broker.BootstrapServers, MessageTimeoutMs = 15_000 }).Build())
        {
            for (int i = 0; i < 5; i++)
            {
                await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" }).WaitAsync(Timeout);
            }
        }

        List<DeleteRecordsResult> deleted = await admin.DeleteRecordsAsync([new TopicPartitionOffset(topic, 0, Offset.End)],
            new DeleteRecordsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);

        Assert.Equal(5, deleted.Single().Offset.Value);
    }
}
