// DeleteRecords (API key 21), versions 0-2 (KIP-107).
// Per partition: moves the log start offset up to `offset` (-1 = the high watermark) and deletes
// the segments entirely below it; low_watermark = the resulting log start offset. An offset
// beyond the high watermark -> OFFSET_OUT_OF_RANGE; an unknown partition ->
// UNKNOWN_TOPIC_OR_PARTITION; a partition listed twice -> INVALID_REQUEST.
// Differences from Kafka: timeout_ms is ignored — on a single node the low watermark of every
// replica is reached as soon as the leader moves it, so there is nothing to wait for.
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Replication;
using Broker.Storage;

namespace Broker.Handlers;

public sealed class DeleteRecordsHandler(ReplicaManager replicaManager) : IApiHandler
{
    private const long HighWatermarkOffset = -1;

    public short ApiKey => DeleteRecordsRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (DeleteRecordsRequest)request;
        var seen = new HashSet<TopicPartition>();
        var response = new DeleteRecordsResponse();
        foreach (DeleteRecordsRequest.DeleteRecordsTopic topic in req.Topics)
        {
            var topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = topic.Name };
            response.Topics.Add(topicResult);
            foreach (DeleteRecordsRequest.DeleteRecordsPartition p in topic.Partitions)
            {
                var result = new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = p.PartitionIndex, LowWatermark = -1 };
                topicResult.Partitions.Add(result);
                var topicPartition = new TopicPartition(topic.Name, p.PartitionIndex);
                if (!seen.Add(topicPartition))
                {
                    result.ErrorCode = (short)ErrorCode.InvalidRequest;
                    continue;
                }

                ErrorCode error = replicaManager.TryGetPartition(topicPartition, out Partition? partition);
                if (error != ErrorCode.None)
                {
                    result.ErrorCode = (short)error;
                    continue;
                }

                long offset = p.Offset == HighWatermarkOffset ? partition!.HighWatermark : p.Offset;
                (ErrorCode deleteError, long lowWatermark) = partition!.Log.DeleteRecordsBefore(offset);
                result.ErrorCode = (short)deleteError;
                result.LowWatermark = deleteError == ErrorCode.None ? lowWatermark : -1;
            }
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }
}
