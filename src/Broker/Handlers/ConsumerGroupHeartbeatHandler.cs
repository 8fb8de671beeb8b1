// ConsumerGroupHeartbeat (API key 68), versions 0-1: the KIP-848 consumer protocol. The member
// sends its subscription (topic names, or a regex from v1) and owned partitions; the
// coordinator runs the server-side assignor (group.consumer.assignors: uniform, range) and
// reconciles the member towards its target assignment: partitions are revoked from their owner
// before they are assigned elsewhere. Regexes are .NET regexes matched against the whole topic
// name with a timeout (Kafka uses RE2/J; patterns beyond RE2's syntax are accepted here).
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class ConsumerGroupHeartbeatHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => ConsumerGroupHeartbeatRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 1;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (ConsumerGroupHeartbeatRequest)request;
        TopicPartitionSet? owned = null;
        if (req.TopicPartitions is not null)
        {
            var topics = new List<KeyValuePair<Guid, IEnumerable<int>>>(req.TopicPartitions.Count);
            foreach (var t in req.TopicPartitions) topics.Add(new(t.TopicId, t.Partitions));
            owned = TopicPartitionSet.From(topics);
        }
        var result = await coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatParams(req.GroupId, req.MemberId,
            req.MemberEpoch, req.InstanceId, req.RackId, req.RebalanceTimeoutMs, req.SubscribedTopicNames,
            context.ApiVersion >= 1 ? req.SubscribedTopicRegex : null, req.ServerAssignor, owned,
            context.ClientId ?? string.Empty, GroupClientHost.From(context.RemoteEndPoint), context.ApiVersion)).ConfigureAwait(false);

        var response = new ConsumerGroupHeartbeatResponse
        {
            ErrorCode = (short)result.Error,
            ErrorMessage = result.ErrorMessage,
            MemberId = result.MemberId,
            MemberEpoch = result.MemberEpoch,
            HeartbeatIntervalMs = result.HeartbeatIntervalMs,
        };
        if (result.Assignment is not null)
        {
            var assignment = new ConsumerGroupHeartbeatResponse.AssignmentData();
            foreach (var (topicId, partitions) in result.Assignment.Topics)
                assignment.TopicPartitions.Add(new ConsumerGroupHeartbeatResponse.TopicPartitions { TopicId = topicId, Partitions = new List<int>(partitions) });
            response.Assignment = assignment;
        }
        return response;
    }
}
