// OffsetCommit (API key 8), versions 0-9. Offsets are records in __consumer_offsets
// (OffsetCommitKey/Value), acknowledged once appended. Classic groups check member id,
// static instance and generation (a generation of -1 is a simple commit, allowed when the group
// is empty or does not exist); KIP-848 groups check the member epoch (STALE_MEMBER_EPOCH, v9).
// v2-v4 carry a retention time that becomes the offset's expire timestamp (KIP-211 removed it
// in v5). Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION, as in Kafka.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class OffsetCommitHandler(GroupCoordinator coordinator, ITopicMetadataSource metadata) : IApiHandler
{
    public short ApiKey => OffsetCommitRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 9;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (OffsetCommitRequest)request;
        var valid = new List<OffsetCommitPartition>();
        var errors = new Dictionary<(string, int), ErrorCode>();
        foreach (var topic in req.Topics)
        {
            var known = metadata.GetTopic(topic.Name);
            foreach (var p in topic.Partitions)
            {
                if (known is null || p.PartitionIndex < 0 || p.PartitionIndex >= known.Value.PartitionCount)
                    errors[(topic.Name, p.PartitionIndex)] = ErrorCode.UnknownTopicOrPartition;
                else
                    valid.Add(new OffsetCommitPartition(topic.Name, p.PartitionIndex, p.CommittedOffset, p.CommittedLeaderEpoch, p.CommittedMetadata));
            }
        }
        if (valid.Count > 0)
        {
            long retentionMs = context.ApiVersion is >= 2 and <= 4 ? req.RetentionTimeMs : -1;
            var results = await coordinator.CommitOffsetsAsync(new OffsetCommitParams(req.GroupId, req.GenerationIdOrMemberEpoch,
                req.MemberId, req.GroupInstanceId, retentionMs, context.ApiVersion, valid)).ConfigureAwait(false);
            foreach (var (topic, partition, error) in results) errors[(topic, partition)] = error;
        }

        var response = new OffsetCommitResponse();
        foreach (var topic in req.Topics)
        {
            var responseTopic = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
                responseTopic.Partitions.Add(new OffsetCommitResponse.OffsetCommitResponsePartition
                {
                    PartitionIndex = p.PartitionIndex,
                    ErrorCode = (short)errors.GetValueOrDefault((topic.Name, p.PartitionIndex), ErrorCode.None),
                });
            response.Topics.Add(responseTopic);
        }
        return response;
    }
}
