using System.Diagnostics;
using Broker.Integration.Tests.Infrastructure;
using Broker.Protocol.Messages;

namespace Broker.Integration.Tests.Network;

/// <summary>connections.max.idle.ms: Kafka's Selector closes a connection with no traffic for that long.</summary>
public sealed class IdleConnectionTests
{
    [Fact]
    public async Task IdleConnection_IsClosedAfterConnectionsMaxIdleMs_AndABusyOneIsNot()
    {
        const int idleMs = 400;
        await using TestBroker broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["connections.max.idle.ms"] = idleMs.ToString() });
        await using RawConnection idle = await RawConnection.ConnectAsync(broker.BootstrapServers);
        await using RawConnection busy = await RawConnection.ConnectAsync(broker.BootstrapServers);
        Assert.Equal(0, (await idle.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3)).ErrorCode);
        var sinceLastResponse = Stopwatch.StartNew();

        // Keep the other connection busy past the idle timeout: each request resets its clock.
        while (sinceLastResponse.ElapsedMilliseconds < 3 * idleMs)
        {
            Assert.Equal(0, (await busy.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3)).ErrorCode);
        }

        await idle.AssertClosedByBrokerAsync();
        Assert.True(sinceLastResponse.ElapsedMilliseconds >= idleMs, $"closed after {sinceLastResponse.ElapsedMilliseconds} ms, before connections.max.idle.ms");
        Assert.Equal(0, (await busy.SendAsync<ApiVersionsResponse>(RawConnection.ApiVersions(), 3)).ErrorCode);
    }
}
