using Broker.Integration.Tests.Infrastructure;
using Broker.Network;
using Broker.Protocol.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Integration.Tests.Network;

/// <summary>
/// max.connections: as Kafka's Acceptor, the broker stops accepting at the limit and accepts again
/// when a connection closes; the waiting client is served then, not refused.
/// </summary>
public sealed class MaxConnectionsTests
{
    [Fact]
    public async Task AtTheLimit_ANewClientWaitsAndIsServedWhenAConnectionCloses()
    {
        await using TestBroker broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["max.connections"] = "2" });
        var server = broker.Services.GetRequiredService<KafkaServer>();
        RawConnection first = await RawConnection.ConnectAsync(broker.BootstrapServers);
        await using RawConnection second = await RawConnection.ConnectAsync(broker.BootstrapServers);
        await first.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3);
        await second.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3);

        // The third TCP connect completes in the listen backlog; its request waits there unread.
        await using RawConnection third = await RawConnection.ConnectAsync(broker.BootstrapServers);
        int correlationId = third.NextCorrelationId();
        await third.WriteAsync(RawConnection.Frame(RawConnection.ApiVersions(), ApiVersionsRequest.ApiKey, 3, correlationId));
        await second.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3);
        Assert.Equal(2, server.ConnectionCount);

        await first.DisposeAsync();

        ApiVersionsResponse response = await third.ReceiveAsync<ApiVersionsResponse>(ApiVersionsRequest.ApiKey, 3, correlationId);
        Assert.Equal(0, response.ErrorCode);
        Assert.True(server.ConnectionCount <= 2, $"{server.ConnectionCount} connections open with max.connections=2");
    }
}
