using System.Diagnostics;
using Broker.Handlers;
using Broker.Network;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication;
using Broker.Storage;
using Broker.Tests.Network;

namespace Broker.Tests.DataPath;

/// <summary>
/// Every file region a fetch reads holds a lease on its segment, which keeps the segment's file
/// open even after the segment is deleted. These tests read offset 0 from a sealed segment, then
/// delete that segment (DeleteRecords) and count the process's open descriptors on the
/// partition's .log files: a lease that was dropped instead of given back would keep the deleted
/// file open until a garbage collection happens to run its finalizer (no test here collects).
/// </summary>
public sealed class FetchLeaseTests : IDisposable
{
    private readonly DataPathFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Offset 0 alone in a sealed segment; offset 1 (bigger) in the active one once <paramref name="appendSecond"/>.</summary>
    private (string Topic, Guid Id, Partition Partition) SealedFirstBatch()
    {
        string topic = DataPathFixture.UniqueTopic();
        Guid id = _f.Store.CreateTopic(topic, 1, 1).Topic!.TopicId;
        Partition partition = _f.Replicas.GetPartition(new TopicPartition(topic, 0))!;
        Append(partition, valueBytes: 100);
        partition.Log.Roll();
        return (topic, id, partition);
    }

    private void Append(Partition partition, int valueBytes) =>
        Assert.Equal(ErrorCode.None, _f.Replicas.AppendToLeader(partition, DataPathFixture.Batch(1, valueBytes: valueBytes), 1).Error);

    /// <summary>Deletes the sealed first segment; afterwards only the active segment's file may be open.</summary>
    private static void DeleteFirstSegmentAndAssertItsFileClosed(Partition partition)
    {
        Assert.Equal(2, OpenLogFiles(partition.Log.Directory));
        Assert.Equal(ErrorCode.None, partition.Log.DeleteRecordsBefore(1).Error);
        Assert.Equal(1, OpenLogFiles(partition.Log.Directory));
    }

    [Fact]
    public async Task A_long_poll_gives_back_the_leases_of_the_first_read_it_discards()
    {
        (string topic, Guid id, Partition partition) = SealedFirstBatch();

        // min.bytes 3000: the first read finds offset 0 (~170 bytes, a region of the sealed
        // segment), too little; as the offset is on an older segment than the high watermark the
        // fetch is satisfied at once (else at max wait), reads again and answers.
        var header = new RequestHeader { RequestApiKey = FetchRequest.ApiKey, RequestApiVersion = 12, CorrelationId = 1, ClientId = "t" };
        ValueTask<IApiMessage?> pending = _f.Fetch.HandleAsync(new RequestContext(header, 1, null, "PLAINTEXT"),
            DataPathFixture.FetchRequestFor(topic, id, 0, 0, 12, maxWaitMs: 300, minBytes: 3000), CancellationToken.None);
        var response = (FetchResponse)(await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        Assert.Equal(new long[] { 0 }, DataPathFixture.RecordOffsets(response.Responses[0].Partitions[0].Records));

        // The network's part: the answered regions are given back once sent.
        ResponseFrame.ReleaseRecords(response);

        // Before the fix the first read's region was overwritten without being disposed.
        DeleteFirstSegmentAndAssertItsFileClosed(partition);
    }

    [Fact]
    public async Task A_long_poll_cancelled_by_a_closing_connection_gives_back_its_leases()
    {
        // Offset 0 in the active segment: the first read holds a region of it and the fetch parks;
        // then the segment is rolled (sealed), and the connection closes under the waiting fetch.
        string topic = DataPathFixture.UniqueTopic();
        Guid id = _f.Store.CreateTopic(topic, 1, 1).Topic!.TopicId;
        Partition partition = _f.Replicas.GetPartition(new TopicPartition(topic, 0))!;
        Append(partition, valueBytes: 100);
        await using (var harness = new ConnectionHarness(_f.Fetch))
        {
            await harness.SendAsync(DataPathFixture.FetchRequestFor(topic, id, 0, 0, 12, maxWaitMs: 30_000, minBytes: 3000), 12);
            Assert.True(await PollAsync(() => _f.Replicas.FetchPurgatory.Delayed == 1));
            partition.Log.Roll();
        } // aborts: the handler's wait is cancelled

        DeleteFirstSegmentAndAssertItsFileClosed(partition);
    }

    [Fact]
    public async Task A_fetch_answered_over_a_copying_transport_gives_back_its_leases()
    {
        // The in-memory transport (as TLS would) copies records into the frame: nothing splices
        // them, so ResponseFrame.Dispose never saw them and the lease waited for the finalizer.
        (string topic, Guid id, Partition partition) = SealedFirstBatch();
        await using var harness = new ConnectionHarness(_f.Fetch);
        FetchResponse response = await harness.RoundTripAsync<FetchResponse>(DataPathFixture.FetchRequestFor(topic, id, 0, 0, 12), 12);
        Assert.Equal(new long[] { 0 }, DataPathFixture.RecordOffsets(response.Responses[0].Partitions[0].Records));

        DeleteFirstSegmentAndAssertItsFileClosed(partition);
    }

    [Fact]
    public async Task A_fetch_answered_after_its_connection_closed_gives_back_its_leases()
    {
        // Two pipelined requests: the first is slow, the second is answered at once with records
        // and waits in the queue behind it. The connection closes: the queued answer is never sent.
        (string topic, Guid id, Partition partition) = SealedFirstBatch();
        var slow = new TaskCompletionSource<IApiMessage?>(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        var handler = new DelegateHandler(FetchRequest.ApiKey, async (context, request) =>
            Interlocked.Increment(ref calls) == 1 ? await slow.Task : await _f.Fetch.HandleAsync(context, request, CancellationToken.None));
        var harness = new ConnectionHarness(handler);
        await harness.SendAsync(DataPathFixture.FetchRequestFor(topic, id, 0, 1, 12), 12);
        await harness.SendAsync(DataPathFixture.FetchRequestFor(topic, id, 0, 0, 12), 12);
        Assert.True(await PollAsync(() => harness.Connection.InFlight == 2));

        harness.Connection.Abort();
        slow.SetResult(new FetchResponse());
        await harness.DisposeAsync();

        DeleteFirstSegmentAndAssertItsFileClosed(partition);
    }

    private static async Task<bool> PollAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(1);
        }

        return condition();
    }

    /// <summary>This process's open descriptors on .log files under <paramref name="directory"/> (deleted ones included).</summary>
    private static int OpenLogFiles(string directory)
    {
        int count = 0;
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while listing
            }

            if (target is not null && target.StartsWith(directory, StringComparison.Ordinal) && target.Contains(".log", StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }
}
