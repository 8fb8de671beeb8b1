// OffsetForLeaderEpoch (API key 23), versions 2-4.
// For each partition: the largest epoch <= the requested one that this log has, and the end
// offset of that epoch (the start offset of the next epoch, or the log end offset for the
// latest), from the leader epoch cache (KIP-101, KIP-279). Consumers use it to detect log
// truncation after a leader change (KIP-320), followers to truncate before fetching.
// Errors: UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH for a stale or
// future current_leader_epoch; an epoch the log does not know answers epoch -1, offset -1.
// Differences from Kafka: versions 0-1 are not offered, as Kafka 4.0 dropped them (KIP-896).
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication;
using Broker.Storage;

namespace Broker.Handlers;

public sealed class OffsetForLeaderEpochHandler(ReplicaManager replicaManager) : IApiHandler
{
    public short ApiKey => OffsetForLeaderEpochRequest.ApiKey;
    public short MinVersion => 2;
    public short MaxVersion => 4;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (OffsetForLeaderEpochRequest)request;
        var response = new OffsetForLeaderEpochResponse();
        foreach (OffsetForLeaderEpochRequest.OffsetForLeaderTopic topic in req.Topics)
        {
            var topicResult = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = topic.Topic };
            response.Topics.Add(topicResult);
            foreach (OffsetForLeaderEpochRequest.OffsetForLeaderPartition p in topic.Partitions)
            {
                var result = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = p.Partition, LeaderEpoch = -1, EndOffset = -1 };
                topicResult.Partitions.Add(result);
                ErrorCode error = replicaManager.TryGetPartition(new TopicPartition(topic.Topic, p.Partition), out Partition? partition);
                if (error == ErrorCode.None)
                {
                    error = partition!.CheckLeaderEpoch(p.CurrentLeaderEpoch);
                }

                if (error != ErrorCode.None)
                {
                    result.ErrorCode = (short)error;
                    continue;
                }

                try
                {
                    (int epoch, long endOffset) = partition!.Log.EndOffsetForEpoch(p.LeaderEpoch);
                    result.LeaderEpoch = epoch;
                    result.EndOffset = endOffset;
                }
                catch (ObjectDisposedException)
                {
                    result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                }
            }
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }
}
