using Broker.Handlers;
using Broker.Network;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Tests.Network;

/// <summary>
/// Pipelined requests: dispatched in arrival order, answered in request order, and at most
/// max.inflight.requests.per.connection outstanding before the connection stops reading.
/// </summary>
public sealed class BackpressureTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task StopsDispatchingAtTheInFlightLimit_AndResumesAsResponsesLeave()
    {
        const int limit = 4;
        var pending = new List<TaskCompletionSource<IApiMessage?>>();
        var handler = new DelegateHandler(HeartbeatRequest.ApiKey, (_, _) =>
        {
            var tcs = new TaskCompletionSource<IApiMessage?>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (pending) pending.Add(tcs);
            return new ValueTask<IApiMessage?>(tcs.Task);
        });
        await using var harness = new ConnectionHarness(new ConnectionOptions { MaxInFlightRequests = limit }, handler);

        var correlationIds = new List<int>();
        for (int i = 0; i < 3 * limit; i++) correlationIds.Add(await harness.SendAsync(new HeartbeatRequest { GroupId = "g" }, 4));

        // Dispatch reaches the limit, then stops there although more requests are waiting to be read.
        await WaitForCountAsync(pending, limit);
        Assert.Equal(limit, await CountAfterAWhileAsync(pending));
        Assert.Equal(limit, harness.Connection.InFlight);

        // Completing responses out of order releases them in request order, and reading resumes.
        var answered = new List<int>();
        int next = 0;
        while (answered.Count < correlationIds.Count)
        {
            TaskCompletionSource<IApiMessage?>[] snapshot;
            lock (pending) snapshot = pending.ToArray();
            for (int i = snapshot.Length - 1; i >= next; i--) snapshot[i].TrySetResult(new HeartbeatResponse());
            next = snapshot.Length;
            while (answered.Count < next)
            {
                answered.Add(correlationIds[answered.Count]);
                await harness.ReceiveAsync<HeartbeatResponse>(4, answered[^1]);
            }
        }

        Assert.Equal(correlationIds, answered);
    }

    private static async Task WaitForCountAsync(List<TaskCompletionSource<IApiMessage?>> pending, int count)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        while (true)
        {
            lock (pending)
            {
                if (pending.Count >= count) return;
            }

            await Task.Delay(5, timeout.Token); // polling a condition with a deadline
        }
    }

    /// <summary>
    /// The dispatched count after giving the connection time to (wrongly) dispatch more: a correct
    /// connection never exceeds the limit, so a slow machine cannot make this fail.
    /// </summary>
    private static async Task<int> CountAfterAWhileAsync(List<TaskCompletionSource<IApiMessage?>> pending)
    {
        for (int i = 0; i < 20; i++) await Task.Delay(5);
        lock (pending) return pending.Count;
    }
}
