using System.Runtime.CompilerServices;
using Broker.Protocol;
using Broker.Replication;
using Broker.Storage;

namespace Broker.Coordinator.Group;

/// <summary>
/// <see cref="ICoordinatorLog"/> over the replica manager: an operation's records become one
/// batch appended to __consumer_offsets-N as leader, and the append completes once the high
/// watermark passes it (acks=all, bounded by offsets.commit.timeout.ms), as Kafka's
/// CoordinatorRuntime releases responses only for committed records.
/// </summary>
public sealed class ReplicatedCoordinatorLog(ReplicaManager replicas, TimeProvider time, int commitTimeoutMs = 5000) : ICoordinatorLog
{
    public async ValueTask<long> AppendAsync(int partition, IReadOnlyList<GroupRecord> records, CancellationToken cancellationToken)
    {
        using var batch = CoordinatorRecordCodec.EncodeBatch(records, time.GetUtcNow().ToUnixTimeMilliseconds());
        var info = await replicas.AppendAndWaitAsync(new TopicPartition(GroupPartitioner.ConsumerOffsetsTopic, partition),
            batch.WrittenMemory, commitTimeoutMs, cancellationToken).ConfigureAwait(false);
        if (info.Error != ErrorCode.None)
            throw new CoordinatorLogException(info.Error, $"Append to {GroupPartitioner.ConsumerOffsetsTopic}-{partition} failed");
        return info.LastOffset + 1;
    }

    public async IAsyncEnumerable<GroupRecord> ReadAllAsync(int partition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var p = replicas.GetPartition(new TopicPartition(GroupPartitioner.ConsumerOffsetsTopic, partition))
            ?? throw new CoordinatorLogException(ErrorCode.NotCoordinator, $"{GroupPartitioner.ConsumerOffsetsTopic}-{partition} is not hosted here");
        // Reading is synchronous file I/O; yield once so the caller's executor is not blocked
        // from the start, then stream the records.
        await Task.Yield();
        foreach (var record in CoordinatorLogLoader.ReadAll(p.Log, cancellationToken))
            yield return record;
    }
}
