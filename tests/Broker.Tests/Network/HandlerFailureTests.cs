using Broker.Protocol;
using Broker.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Broker.Tests.Network;

/// <summary>
/// A handler that throws is answered with UNKNOWN_SERVER_ERROR and the connection keeps serving
/// (Kafka's KafkaApis.handleError); an acks=0 produce closes the connection instead.
/// </summary>
public sealed class HandlerFailureTests
{
    [Fact]
    public async Task ThrowingHandler_AnswersUnknownServerError_LogsIt_AndKeepsServing()
    {
        await using var harness = new ConnectionHarness(
            DelegateHandler.Throwing(MetadataRequest.ApiKey),
            new DelegateHandler(ApiVersionsRequest.ApiKey, static (_, _) => ValueTask.FromResult<IApiMessage?>(new ApiVersionsResponse())));

        var request = new MetadataRequest { Topics = new() { new MetadataRequest.MetadataRequestTopic { Name = "boom" } } };
        int correlationId = await harness.SendAsync(request, 12, clientId: "client-x");
        MetadataResponse response = await harness.ReceiveAsync<MetadataResponse>(12, correlationId);

        MetadataResponse.MetadataResponseTopic topic = Assert.Single(response.Topics);
        Assert.Equal("boom", topic.Name);
        Assert.Equal((short)ErrorCode.UnknownServerError, topic.ErrorCode);

        var logged = Assert.Single(harness.Logger.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(logged.Exception);
        Assert.Contains("Metadata", logged.Message);
        Assert.Contains("api key 3 v12", logged.Message);
        Assert.Contains("client-x", logged.Message);
        Assert.Contains($"correlation {correlationId}", logged.Message);

        // The same connection still answers.
        ApiVersionsResponse versions = await harness.RoundTripAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3);
        Assert.Equal(0, versions.ErrorCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProduceHandlerThrowing_AnswersEveryPartition(bool afterAwait)
    {
        await using var harness = new ConnectionHarness(afterAwait ? DelegateHandler.ThrowingAsync(ProduceRequest.ApiKey) : DelegateHandler.Throwing(ProduceRequest.ApiKey));
        var request = new ProduceRequest { Acks = 1, TimeoutMs = 1000 };
        var topic = new ProduceRequest.TopicProduceData { Name = "p" };
        topic.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = 0 });
        topic.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = 1 });
        request.TopicData.Add(topic);

        ProduceResponse response = await harness.RoundTripAsync<ProduceResponse>(request, 9);

        ProduceResponse.TopicProduceResponse t = Assert.Single(response.Responses);
        Assert.All(t.PartitionResponses, p => Assert.Equal((short)ErrorCode.UnknownServerError, p.ErrorCode));
        Assert.Equal(2, t.PartitionResponses.Count);
    }

    [Fact]
    public async Task ResponsesStayInOrderAroundAFailure()
    {
        int calls = 0;
        await using var harness = new ConnectionHarness(new DelegateHandler(HeartbeatRequest.ApiKey, (_, _) =>
            Interlocked.Increment(ref calls) == 2
                ? throw new InvalidOperationException("second one fails")
                : ValueTask.FromResult<IApiMessage?>(new HeartbeatResponse())));

        int first = await harness.SendAsync(new HeartbeatRequest { GroupId = "g" }, 4);
        int second = await harness.SendAsync(new HeartbeatRequest { GroupId = "g" }, 4);
        int third = await harness.SendAsync(new HeartbeatRequest { GroupId = "g" }, 4);

        Assert.Equal(0, (await harness.ReceiveAsync<HeartbeatResponse>(4, first)).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownServerError, (await harness.ReceiveAsync<HeartbeatResponse>(4, second)).ErrorCode);
        Assert.Equal(0, (await harness.ReceiveAsync<HeartbeatResponse>(4, third)).ErrorCode);
    }

    [Fact]
    public async Task AcksZeroProduceHandlerThrowing_ClosesTheConnection()
    {
        await using var harness = new ConnectionHarness(DelegateHandler.Throwing(ProduceRequest.ApiKey));
        var request = new ProduceRequest { Acks = 0, TimeoutMs = 1000 };
        request.TopicData.Add(new ProduceRequest.TopicProduceData { Name = "p", PartitionData = { new ProduceRequest.PartitionProduceData { Index = 0 } } });

        await harness.SendAsync(request, 9);

        await harness.AssertClosedAsync();
        Assert.Contains(harness.Logger.Entries, e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException);
    }

    [Fact]
    public async Task CloseConnectionRequest_SendsEarlierResponsesThenCloses()
    {
        await using var harness = new ConnectionHarness(
            new DelegateHandler(ProduceRequest.ApiKey, static (context, _) =>
            {
                context.CloseConnection("acks=0 produce failed: p-0 UNKNOWN_TOPIC_OR_PARTITION");
                return ValueTask.FromResult<IApiMessage?>(null);
            }),
            new DelegateHandler(ApiVersionsRequest.ApiKey, static (_, _) => ValueTask.FromResult<IApiMessage?>(new ApiVersionsResponse())));

        int before = await harness.SendAsync(new ApiVersionsRequest(), 3);
        await harness.SendAsync(new ProduceRequest { Acks = 0 }, 9);

        await harness.ReceiveAsync<ApiVersionsResponse>(3, before);
        await harness.AssertClosedAsync();
        Assert.Contains(harness.Logger.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("UNKNOWN_TOPIC_OR_PARTITION") && e.Message.Contains("closing"));
    }
}
