// OffsetDelete (API key 47), version 0 (KIP-496): deletes committed offsets of a group, refusing
// partitions of topics the group's members still subscribe to (GROUP_SUBSCRIBED_TO_TOPIC) and
// any offsets of a non-empty group that does not use the consumer protocol (NON_EMPTY_GROUP).
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class OffsetDeleteHandler(GroupCoordinator coordinator, ITopicMetadataSource metadata) : IApiHandler
{
    public short ApiKey => OffsetDeleteRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 0;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (OffsetDeleteRequest)request;
        var topics = new List<(string, IReadOnlyList<int>)>();
        var errors = new Dictionary<(string, int), ErrorCode>();
        foreach (var t in req.Topics)
        {
            var partitions = new List<int>();
            var known = metadata.GetTopic(t.Name);
            foreach (var p in t.Partitions)
            {
                if (known is null || p.PartitionIndex < 0 || p.PartitionIndex >= known.Value.PartitionCount)
                    errors[(t.Name, p.PartitionIndex)] = ErrorCode.UnknownTopicOrPartition;
                else partitions.Add(p.PartitionIndex);
            }
            if (partitions.Count > 0) topics.Add((t.Name, partitions));
        }
        var (error, results) = await coordinator.DeleteOffsetsAsync(req.GroupId, topics).ConfigureAwait(false);
        var response = new OffsetDeleteResponse { ErrorCode = (short)error };
        if (error != ErrorCode.None) return response;
        foreach (var (topic, partition, partitionError) in results) errors[(topic, partition)] = partitionError;
        foreach (var t in req.Topics)
        {
            var rt = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = t.Name };
            foreach (var p in t.Partitions)
                rt.Partitions.Add(new OffsetDeleteResponse.OffsetDeleteResponsePartition
                { PartitionIndex = p.PartitionIndex, ErrorCode = (short)errors.GetValueOrDefault((t.Name, p.PartitionIndex), ErrorCode.None) });
            response.Topics.Add(rt);
        }
        return response;
    }
}
