// ListOffsets (API key 2), versions 1-10.
// Per partition: -2 earliest (log start offset), -1 latest (high watermark, or the last stable
// offset for read_committed; the log end offset for a follower), -3 the record with the largest
// timestamp (v7+, KIP-734), -4 earliest local (v8+, = earliest without tiered storage), -5 latest
// tiered (v9+, none: offset -1), otherwise the first offset whose timestamp is >= the given one,
// only below the high watermark (Kafka never reveals uncommitted offsets to consumers).
// Errors: UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH (KIP-320, v4+),
// INVALID_REQUEST for a partition listed twice.
// Differences from Kafka: version 0 (old-style offset lists) is not offered, as Kafka 4.0 dropped
// it (KIP-896). timeout_ms (v10) is ignored: a single node answers at once.
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication;
using Broker.Storage;

namespace Broker.Handlers;

public sealed class ListOffsetsHandler(ReplicaManager replicaManager) : IApiHandler
{
    private const long EarliestLocalTimestamp = -4;
    private const long LatestTieredTimestamp = -5;

    public short ApiKey => ListOffsetsRequest.ApiKey;
    public short MinVersion => 1;
    public short MaxVersion => 10;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (ListOffsetsRequest)request;
        short version = context.ApiVersion;
        bool isFollower = req.ReplicaId >= 0;
        bool readCommitted = version >= 2 && req.IsolationLevel == 1;
        var seen = new HashSet<TopicPartition>();
        var response = new ListOffsetsResponse();
        foreach (ListOffsetsRequest.ListOffsetsTopic topic in req.Topics)
        {
            var topicResponse = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = topic.Name };
            response.Topics.Add(topicResponse);
            foreach (ListOffsetsRequest.ListOffsetsPartition p in topic.Partitions)
            {
                var result = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex, Timestamp = -1, Offset = -1 };
                topicResponse.Partitions.Add(result);
                var topicPartition = new TopicPartition(topic.Name, p.PartitionIndex);
                if (!seen.Add(topicPartition))
                {
                    result.ErrorCode = (short)ErrorCode.InvalidRequest;
                    continue;
                }

                result.ErrorCode = (short)Lookup(topicPartition, p, isFollower, readCommitted, result);
                if (version < 4)
                {
                    result.LeaderEpoch = -1;
                }
            }
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private ErrorCode Lookup(TopicPartition topicPartition, ListOffsetsRequest.ListOffsetsPartition request, bool isFollower, bool readCommitted,
        ListOffsetsResponse.ListOffsetsPartitionResponse result)
    {
        ErrorCode error = replicaManager.TryGetPartition(topicPartition, out Partition? partition);
        if (error != ErrorCode.None)
        {
            return error;
        }

        error = partition!.CheckLeaderEpoch(request.CurrentLeaderEpoch);
        if (error != ErrorCode.None)
        {
            return error;
        }

        long lastFetchableOffset = isFollower ? partition.LogEndOffset : readCommitted ? partition.LastStableOffset : partition.HighWatermark;
        long timestamp = request.Timestamp;
        try
        {
            switch (timestamp)
            {
                case PartitionLog.LatestTimestamp:
                    result.Offset = lastFetchableOffset;
                    result.LeaderEpoch = partition.Log.LookupOffsetForTimestamp(PartitionLog.LatestTimestamp)?.LeaderEpoch ?? -1;
                    return ErrorCode.None;
                case PartitionLog.EarliestTimestamp:
                case EarliestLocalTimestamp:
                    TimestampAndOffset? earliest = partition.Log.LookupOffsetForTimestamp(PartitionLog.EarliestTimestamp);
                    result.Offset = earliest?.Offset ?? partition.LogStartOffset;
                    result.LeaderEpoch = earliest?.LeaderEpoch ?? -1;
                    return ErrorCode.None;
                case LatestTieredTimestamp:
                    return ErrorCode.None; // no tiered storage: offset -1 (KIP-1005)
            }

            if (timestamp < 0 && timestamp != PartitionLog.MaxTimestamp)
            {
                return ErrorCode.InvalidRequest;
            }

            TimestampAndOffset? found = partition.Log.LookupOffsetForTimestamp(timestamp);
            if (found is { } hit && hit.Offset < lastFetchableOffset)
            {
                result.Offset = hit.Offset;
                result.Timestamp = hit.Timestamp;
                result.LeaderEpoch = hit.LeaderEpoch;
            }

            return ErrorCode.None;
        }
        catch (ObjectDisposedException)
        {
            return ErrorCode.UnknownTopicOrPartition;
        }
        catch (IOException)
        {
            return ErrorCode.KafkaStorageError;
        }
    }
}
