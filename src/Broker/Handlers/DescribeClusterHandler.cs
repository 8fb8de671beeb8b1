// DescribeCluster (API key 60), versions 0-1 (KIP-700).
// The one broker (this node, advertised on the listener the request came in on, with broker.rack),
// the cluster id and the controller id (this node: a single node is its own KRaft quorum).
// v1 endpoint_type: 1 = brokers (answered), 2 = controllers (KIP-919) -> UNSUPPORTED_ENDPOINT_TYPE
// as a broker does in Kafka. Authorized operations are not computed (no ACLs): INT32_MIN.
using Broker.Config;
using Broker.Network;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Handlers;

public sealed class DescribeClusterHandler(BrokerConfig config, ClusterIdentity cluster, BrokerEndpoints endpoints) : IApiHandler
{
    private const sbyte BrokersEndpointType = 1;

    public short ApiKey => DescribeClusterRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 1;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (DescribeClusterRequest)request;
        var response = new DescribeClusterResponse { ClusterId = cluster.ClusterId, EndpointType = req.EndpointType };
        if (context.ApiVersion >= 1 && req.EndpointType != BrokersEndpointType)
        {
            response.ErrorCode = (short)ErrorCode.UnsupportedEndpointType;
            response.ErrorMessage = "This node answers DescribeCluster for brokers only (endpoint_type 1).";
            return ValueTask.FromResult<IApiMessage?>(response);
        }

        int nodeId = config.NodeId;
        response.ControllerId = nodeId;
        (string host, int port) = endpoints.For(context.ListenerName) ?? FirstEndpoint();
        response.Brokers.Add(new DescribeClusterResponse.DescribeClusterBroker
        {
            BrokerId = nodeId,
            Host = host,
            Port = port,
            Rack = config.GetString("broker.rack"),
        });
        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private (string Host, int Port) FirstEndpoint()
    {
        IReadOnlyList<ListenerEndpoint> all = endpoints.Advertised;
        return all.Count > 0 ? (all[0].Host, all[0].Port) : ("localhost", 9092);
    }
}
