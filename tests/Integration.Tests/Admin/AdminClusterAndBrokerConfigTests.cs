using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.Integration.Tests.Admin;

/// <summary>
/// DescribeCluster, broker-level DescribeConfigs / IncrementalAlterConfigs, APPEND on a list config,
/// and that a topic config change reaches the produce path (max.message.bytes), via AdminClient.
/// </summary>
public sealed class AdminClusterAndBrokerConfigTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static IAdminClient Admin(TestBroker broker) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers, SocketTimeoutMs = 10_000 }).Build();

    [Fact(Timeout = 60_000)]
    public async Task DescribeCluster_ReturnsThisBrokerAsControllerWithClusterId()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);

        DescribeClusterResult cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);

        Node node = Assert.Single(cluster.Nodes);
        Assert.False(string.IsNullOrEmpty(cluster.ClusterId));
        Assert.Equal(node.Id, cluster.Controller.Id);
        Assert.Equal(broker.BootstrapServers, $"{node.Host}:{node.Port}");
    }

    [Fact(Timeout = 60_000)]
    public async Task BrokerConfig_DynamicSet_IsDescribedWithDynamicSource_AndStaticKeyIsRejected()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        DescribeClusterResult cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        var resource = new ConfigResource { Type = ResourceType.Broker, Name = cluster.Nodes[0].Id.ToString() };

        await AlterAsync(admin, resource, "log.retention.bytes", "987654321", AlterConfigOpType.Set);
        ConfigEntryResult entry = (await DescribeAsync(admin, resource)).Entries["log.retention.bytes"];
        Assert.Equal("987654321", entry.Value);
        Assert.Equal(ConfigSource.DynamicBrokerConfig, entry.Source);

        var e = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => AlterAsync(admin, resource, "node.id", "7", AlterConfigOpType.Set));
        Assert.Equal(ErrorCode.InvalidConfig, e.Results.Single().Error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task IncrementalAlterConfigs_AppendToCleanupPolicy_AddsCompact()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-append");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }],
            new CreateTopicsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

        await AlterAsync(admin, resource, "cleanup.policy", "compact", AlterConfigOpType.Append);

        Assert.Equal("delete,compact", (await DescribeAsync(admin, resource)).Entries["cleanup.policy"].Value);
    }

    [Fact(Timeout = 60_000)]
    public async Task IncrementalAlterConfigs_MaxMessageBytes_TakesEffectOnProduce()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        using IAdminClient admin = Admin(broker);
        string topic = TestBroker.UniqueTopic("admin-maxbytes");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }],
            new CreateTopicsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
        using IProducer<Null, string> producer = new ProducerBuilder<Null, string>(
            new ProducerConfig { BootstrapServers = broker.BootstrapServers, MessageTimeoutMs = 15_000, CompressionType = CompressionType.None }).Build();
        string big = new('x', 5000);
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = big }).WaitAsync(Timeout);

        await AlterAsync(admin, new ConfigResource { Type = ResourceType.Topic, Name = topic }, "max.message.bytes", "1000", AlterConfigOpType.Set);

        var e = await Assert.ThrowsAsync<ProduceException<Null, string>>(() =>
            producer.ProduceAsync(topic, new Message<Null, string> { Value = big }).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, e.Error.Code);
    }

    private static async Task<DescribeConfigsResult> DescribeAsync(IAdminClient admin, ConfigResource resource) =>
        (await admin.DescribeConfigsAsync([resource], new DescribeConfigsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout)).Single();

    private static Task AlterAsync(IAdminClient admin, ConfigResource resource, string key, string? value, AlterConfigOpType op) =>
        admin.IncrementalAlterConfigsAsync(
            new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = [new ConfigEntry { Name = key, Value = value, IncrementalOperation = op }] },
            new IncrementalAlterConfigsOptions { RequestTimeout = Timeout }).WaitAsync(Timeout);
}
