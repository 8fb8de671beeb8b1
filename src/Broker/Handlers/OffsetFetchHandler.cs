// OffsetFetch (API key 9), versions 0-9. v0-7 fetch one group (v2+: null topics = all
// committed offsets and a top-level error); v8+ (KIP-709) fetch a batch of groups; v9
// (KIP-848) lets a consumer-group member fetch with its member id and epoch. RequireStable
// (v7, KIP-447) waits for pending transactional offsets; there are none until transactional
// offset commits exist, so offsets are always stable here.
using Broker.Coordinator.Group;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class OffsetFetchHandler(GroupCoordinator coordinator) : IApiHandler
{
    public short ApiKey => OffsetFetchRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 9;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (OffsetFetchRequest)request;
        var response = new OffsetFetchResponse();
        if (context.ApiVersion < 8)
        {
            List<(string, IReadOnlyList<int>)>? topics = null;
            if (req.Topics is not null)
            {
                topics = new List<(string, IReadOnlyList<int>)>(req.Topics.Count);
                foreach (var t in req.Topics) topics.Add((t.Name, t.PartitionIndexes));
            }
            var result = await coordinator.FetchOffsetsAsync(new OffsetFetchParams(req.GroupId, null, -1, topics, req.RequireStable))
                .ConfigureAwait(false);
            if (context.ApiVersion >= 2) response.ErrorCode = (short)result.Error;
            if (result.Error != ErrorCode.None && context.ApiVersion < 2 && topics is not null)
            {
                // v0-1 have no top-level error: every requested partition carries it.
                foreach (var (topic, partitions) in topics)
                {
                    var t = new OffsetFetchResponse.OffsetFetchResponseTopic { Name = topic };
                    foreach (int p in partitions)
                        t.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartition
                        { PartitionIndex = p, CommittedOffset = -1, Metadata = string.Empty, ErrorCode = (short)result.Error });
                    response.Topics.Add(t);
                }
                return response;
            }
            foreach (var group in GroupByTopic(result.Offsets))
            {
                var t = new OffsetFetchResponse.OffsetFetchResponseTopic { Name = group.Key };
                foreach (var o in group.Value)
                    t.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartition
                    {
                        PartitionIndex = o.Partition, CommittedOffset = o.Offset, CommittedLeaderEpoch = o.LeaderEpoch,
                        Metadata = o.Metadata, ErrorCode = (short)o.Error,
                    });
                response.Topics.Add(t);
            }
            return response;
        }

        foreach (var g in req.Groups)
        {
            List<(string, IReadOnlyList<int>)>? topics = null;
            if (g.Topics is not null)
            {
                topics = new List<(string, IReadOnlyList<int>)>(g.Topics.Count);
                foreach (var t in g.Topics) topics.Add((t.Name, t.PartitionIndexes));
            }
            var result = await coordinator.FetchOffsetsAsync(new OffsetFetchParams(g.GroupId,
                context.ApiVersion >= 9 ? g.MemberId : null, g.MemberEpoch, topics, req.RequireStable)).ConfigureAwait(false);
            var responseGroup = new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = g.GroupId, ErrorCode = (short)result.Error };
            foreach (var group in GroupByTopic(result.Offsets))
            {
                var t = new OffsetFetchResponse.OffsetFetchResponseTopics { Name = group.Key };
                foreach (var o in group.Value)
                    t.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartitions
                    {
                        PartitionIndex = o.Partition, CommittedOffset = o.Offset, CommittedLeaderEpoch = o.LeaderEpoch,
                        Metadata = o.Metadata, ErrorCode = (short)o.Error,
                    });
                responseGroup.Topics.Add(t);
            }
            response.Groups.Add(responseGroup);
        }
        return response;
    }

    private static List<KeyValuePair<string, List<FetchedOffset>>> GroupByTopic(IReadOnlyList<FetchedOffset> offsets)
    {
        var order = new List<KeyValuePair<string, List<FetchedOffset>>>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var o in offsets)
        {
            if (!index.TryGetValue(o.Topic, out int i))
            {
                index[o.Topic] = i = order.Count;
                order.Add(new(o.Topic, new List<FetchedOffset>()));
            }
            order[i].Value.Add(o);
        }
        return order;
    }
}
