// ConsumerGroupDescribe (API key 69), version 0 (KIP-848): members of a consumer group with
// their epochs, subscriptions, current and target assignments (topic names resolved from
// metadata). Classic or unknown groups answer GROUP_ID_NOT_FOUND.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class ConsumerGroupDescribeHandler(GroupCoordinator coordinator, ITopicMetadataSource metadata) : IApiHandler
{
    public short ApiKey => ConsumerGroupDescribeRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 0;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (ConsumerGroupDescribeRequest)request;
        var response = new ConsumerGroupDescribeResponse();
        foreach (var groupId in req.GroupIds)
        {
            var g = await coordinator.ConsumerGroupDescribeAsync(groupId).ConfigureAwait(false);
            var described = new ConsumerGroupDescribeResponse.DescribedGroup
            {
                ErrorCode = (short)g.Error, ErrorMessage = g.ErrorMessage, GroupId = groupId, GroupState = g.State,
                GroupEpoch = g.GroupEpoch, AssignmentEpoch = g.AssignmentEpoch, AssignorName = g.AssignorName,
                AuthorizedOperations = req.IncludeAuthorizedOperations ? DescribeGroupsHandler.GroupAuthorizedOperations : int.MinValue,
            };
            foreach (var m in g.Members)
                described.Members.Add(new ConsumerGroupDescribeResponse.Member
                {
                    MemberId = m.MemberId, InstanceId = m.InstanceId, RackId = m.RackId, MemberEpoch = m.MemberEpoch,
                    ClientId = m.ClientId, ClientHost = m.ClientHost, SubscribedTopicNames = new List<string>(m.SubscribedTopicNames),
                    SubscribedTopicRegex = m.SubscribedTopicRegex,
                    Assignment = ToAssignment(m.Assignment), TargetAssignment = ToAssignment(m.TargetAssignment),
                });
            response.Groups.Add(described);
        }
        return response;
    }

    private ConsumerGroupDescribeResponse.Assignment ToAssignment(TopicPartitionSet set)
    {
        var assignment = new ConsumerGroupDescribeResponse.Assignment();
        foreach (var (topicId, partitions) in set.Topics)
            assignment.TopicPartitions.Add(new ConsumerGroupDescribeResponse.TopicPartitions
            { TopicId = topicId, TopicName = metadata.GetTopicName(topicId) ?? string.Empty, Partitions = new List<int>(partitions) });
        return assignment;
    }
}
