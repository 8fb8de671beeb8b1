using Broker.Integration.Tests.DataPath;
using Broker.Integration.Tests.Infrastructure;
using Broker.Protocol.Messages;

namespace Broker.Integration.Tests.Admin;

/// <summary>
/// Wire-level checks AdminClient cannot express: CreateTopics v7 defaults (-1/-1) with the topic id
/// and effective configs, DeleteTopics v6 by topic id (and UNKNOWN_TOPIC_ID), duplicates in one request.
/// </summary>
public sealed class AdminWireTests
{
    private const short UnknownTopicId = 100;
    private const short InvalidRequest = 42;

    [Fact(Timeout = 60_000)]
    public async Task CreateTopicsV7_Defaults_ReturnIdAndConfigs_ThenDeleteTopicsV6ById()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using TestBroker broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["num.partitions"] = "3" });
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic("admin-wire");

        var create = new CreateTopicsRequest
        {
            TimeoutMs = 10_000,
            Topics = [new CreateTopicsRequest.CreatableTopic { Name = topic, NumPartitions = -1, ReplicationFactor = -1 }],
        };
        CreateTopicsResponse created = await client.SendAsync<CreateTopicsResponse>(create, CreateTopicsRequest.ApiKey, 7, cts.Token);
        CreateTopicsResponse.CreatableTopicResult result = Assert.Single(created.Topics);
        Assert.Equal(0, result.ErrorCode);
        Assert.Equal(3, result.NumPartitions);
        Assert.Equal(1, result.ReplicationFactor);
        Assert.NotEqual(Guid.Empty, result.TopicId);
        Assert.Contains(result.Configs!, c => c.Name == "retention.ms");

        var byId = new DeleteTopicsRequest { TimeoutMs = 10_000, Topics = [new DeleteTopicsRequest.DeleteTopicState { TopicId = result.TopicId }] };
        DeleteTopicsResponse deleted = await client.SendAsync<DeleteTopicsResponse>(byId, DeleteTopicsRequest.ApiKey, 6, cts.Token);
        DeleteTopicsResponse.DeletableTopicResult d = Assert.Single(deleted.Responses);
        Assert.Equal(0, d.ErrorCode);
        Assert.Equal(topic, d.Name);

        DeleteTopicsResponse again = await client.SendAsync<DeleteTopicsResponse>(byId, DeleteTopicsRequest.ApiKey, 6, cts.Token);
        Assert.Equal(UnknownTopicId, Assert.Single(again.Responses).ErrorCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task CreateTopics_SameNameTwiceInOneRequest_IsInvalidRequest()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using TestBroker broker = await TestBroker.StartAsync();
        await using RawKafkaClient client = await RawKafkaClient.ConnectAsync(broker.BootstrapServers, cts.Token);
        string topic = TestBroker.UniqueTopic("admin-dup");
        var spec = new CreateTopicsRequest.CreatableTopic { Name = topic, NumPartitions = 1, ReplicationFactor = 1 };

        CreateTopicsResponse response = await client.SendAsync<CreateTopicsResponse>(
            new CreateTopicsRequest { TimeoutMs = 10_000, Topics = [spec, spec] }, CreateTopicsRequest.ApiKey, 5, cts.Token);

        Assert.Equal(2, response.Topics.Count);
        Assert.All(response.Topics, t => Assert.Equal(InvalidRequest, t.ErrorCode));
    }
}
