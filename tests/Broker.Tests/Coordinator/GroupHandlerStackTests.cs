using Broker.Config;
using Broker.Coordinator;
using Broker.Coordinator.Group;
using Broker.Handlers;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Storage;
using Broker.Tests.Replication;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Tests.Coordinator;

/// <summary>
/// The group handlers over the real stack without the network: replica manager, metadata store
/// and logs in a temp dir, __consumer_offsets created and loaded by the lifecycle service, every
/// response written at the request's version and read back. "Restart" shuts everything down
/// and builds it again over the same directory.
/// </summary>
internal sealed class GroupStack : IAsyncDisposable
{
    private readonly string _dir;
    private GroupCoordinatorLifecycle _lifecycle = null!;

    public GroupStack(string dir) => _dir = dir;

    public BrokerConfig Config { get; private set; } = null!;
    public ReplicaManager Replicas { get; private set; } = null!;
    public TopicMetadataStore Store { get; private set; } = null!;
    public GroupCoordinator Coordinator { get; private set; } = null!;
    public ITopicMetadataSource Metadata { get; private set; } = null!;

    public async Task StartAsync()
    {
        Config = BrokerConfig.From(("log.dirs", _dir), ("node.id", "1"), ("listeners", "PLAINTEXT://127.0.0.1:9092"),
            ("offsets.topic.num.partitions", "5"), ("group.initial.rebalance.delay.ms", "0"));
        var logs = new LogManager(DataPathServiceModule.ToLogManagerConfig(Config, new ClusterIdentity(Config).ClusterId));
        Store = new TopicMetadataStore(new TopicMetadataStoreOptions { MetadataDir = _dir, NodeId = 1, DefaultNumPartitions = 1 });
        Replicas = new ReplicaManager(logs, Store, 1);
        Replicas.Startup();
        Metadata = new TopicMetadataStoreSource(Store, logs);
        Coordinator = new GroupCoordinator(GroupCoordinatorServiceModule.FromBrokerConfig(Config),
            new ReplicatedCoordinatorLog(Replicas, TimeProvider.System), Metadata, TimeProvider.System, NullLoggerFactory.Instance);
        _lifecycle = new GroupCoordinatorLifecycle(Coordinator, Replicas, Store, NullLogger<GroupCoordinatorLifecycle>.Instance);
        await _lifecycle.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        for (int p = 0; p < 5; p++)
            while (Coordinator.Shard(p)?.Status != ShardStatus.Active)
            {
                Assert.True(DateTime.UtcNow < deadline, "shards did not load");
                await Task.Delay(10);
            }
    }

    public async Task RestartAsync()
    {
        await DisposeAsync();
        await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _lifecycle.StopAsync(CancellationToken.None);
        Replicas.Shutdown();
    }

    public async Task<TResponse> CallAsync<TResponse>(IApiHandler handler, IRequest request, short version)
        where TResponse : class, IResponse, new()
    {
        var header = new RequestHeader { RequestApiKey = handler.ApiKey, RequestApiVersion = version, CorrelationId = 1, ClientId = "stack-test" };
        var context = new RequestContext(header, 1, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 5555), "PLAINTEXT");
        var response = (TResponse)(await handler.HandleAsync(context, request, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        byte[] bytes = new byte[response.ComputeSize(version)];
        var writer = new KafkaWriter(bytes);
        response.Write(ref writer, version);
        var reader = new KafkaReader(bytes);
        var decoded = new TResponse();
        decoded.Read(ref reader, version);
        Assert.False(reader.Failed);
        return decoded;
    }
}

public class GroupHandlerStackTests
{
    [Fact]
    public async Task ClassicGroupAndOffsetsThroughHandlersSurviveRestart()
    {
        using var dir = new TempDir();
        var stack = new GroupStack(dir.Path);
        await stack.StartAsync();
        try
        {
            Assert.NotNull(stack.Store.GetTopic("__consumer_offsets"));
            stack.Store.CreateTopic("orders", 3, 1);
            const string group = "stack-group";

            var find = await stack.CallAsync<FindCoordinatorResponse>(new FindCoordinatorHandler(stack.Coordinator,
                new LocalCoordinatorNodeResolver(stack.Coordinator, stack.Replicas, _ => ("127.0.0.1", 9092)), new EmptyProvider()),
                new FindCoordinatorRequest { KeyType = 0, CoordinatorKeys = { group, "other" } }, 4);
            Assert.All(find.Coordinators, c => Assert.Equal((short)ErrorCode.None, c.ErrorCode));
            Assert.Equal(9092, find.Coordinators[0].Port);
            var findV0 = await stack.CallAsync<FindCoordinatorResponse>(new FindCoordinatorHandler(stack.Coordinator,
                new LocalCoordinatorNodeResolver(stack.Coordinator, stack.Replicas, _ => ("127.0.0.1", 9092)), new EmptyProvider()),
                new FindCoordinatorRequest { Key = "txn", KeyType = 1 }, 1);
            Assert.Equal((short)ErrorCode.CoordinatorNotAvailable, findV0.ErrorCode);

            var join = new JoinGroupHandler(stack.Coordinator);
            var request = new JoinGroupRequest
            {
                GroupId = group, SessionTimeoutMs = 10000, RebalanceTimeoutMs = 10000, MemberId = "", ProtocolType = "consumer",
                Protocols = { new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = new byte[] { 0, 1 } } },
            };
            var first = await stack.CallAsync<JoinGroupResponse>(join, request, 9);
            Assert.Equal((short)ErrorCode.MemberIdRequired, first.ErrorCode);
            request.MemberId = first.MemberId;
            var joined = await stack.CallAsync<JoinGroupResponse>(join, request, 9);
            Assert.Equal((short)ErrorCode.None, joined.ErrorCode);
            Assert.Equal(joined.MemberId, joined.Leader);

            var sync = await stack.CallAsync<SyncGroupResponse>(new SyncGroupHandler(stack.Coordinator), new SyncGroupRequest
            {
                GroupId = group, GenerationId = joined.GenerationId, MemberId = joined.MemberId, ProtocolType = "consumer", ProtocolName = "range",
                Assignments = { new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = joined.MemberId, Assignment = new byte[] { 4, 2 } } },
            }, 5);
            Assert.Equal(new byte[] { 4, 2 }, sync.Assignment);

            var commit = await stack.CallAsync<OffsetCommitResponse>(new OffsetCommitHandler(stack.Coordinator, stack.Metadata), new OffsetCommitRequest
            {
                GroupId = group, GenerationIdOrMemberEpoch = joined.GenerationId, MemberId = joined.MemberId,
                Topics =
                {
                    new OffsetCommitRequest.OffsetCommitRequestTopic
                    {
                        Name = "orders",
                        Partitions =
                        {
                            new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 1, CommittedOffset = 77, CommittedMetadata = "m" },
                            new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 9, CommittedOffset = 1 },
                        },
                    },
                },
            }, 8);
            Assert.Equal((short)ErrorCode.None, commit.Topics[0].Partitions[0].ErrorCode);
            Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, commit.Topics[0].Partitions[1].ErrorCode);

            await stack.RestartAsync();

            var fetched = await stack.CallAsync<OffsetFetchResponse>(new OffsetFetchHandler(stack.Coordinator), new OffsetFetchRequest
            {
                Groups = { new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = group, Topics = null } },
                RequireStable = true,
            }, 8);
            var partition = fetched.Groups[0].Topics.Single().Partitions.Single();
            Assert.Equal(77, partition.CommittedOffset);
            Assert.Equal("m", partition.Metadata);
            var fetchedV1 = await stack.CallAsync<OffsetFetchResponse>(new OffsetFetchHandler(stack.Coordinator), new OffsetFetchRequest
            {
                GroupId = group,
                Topics = new() { new OffsetFetchRequest.OffsetFetchRequestTopic { Name = "orders", PartitionIndexes = { 0, 1 } } },
            }, 1);
            Assert.Equal(new long[] { -1, 77 }, fetchedV1.Topics[0].Partitions.Select(p => p.CommittedOffset));

            var described = await stack.CallAsync<DescribeGroupsResponse>(new DescribeGroupsHandler(stack.Coordinator),
                new DescribeGroupsRequest { Groups = { group } }, 5);
            Assert.Equal("Stable", described.Groups[0].GroupState);
            Assert.Equal(new byte[] { 4, 2 }, described.Groups[0].Members.Single().MemberAssignment);
            Assert.Equal("/127.0.0.1", described.Groups[0].Members.Single().ClientHost);

            var listed = await stack.CallAsync<ListGroupsResponse>(new ListGroupsHandler(stack.Coordinator), new ListGroupsRequest(), 5);
            Assert.Contains(listed.Groups, g => g.GroupId == group && g.GroupType == "classic");

            var leave = await stack.CallAsync<LeaveGroupResponse>(new LeaveGroupHandler(stack.Coordinator), new LeaveGroupRequest
            {
                GroupId = group, Members = { new LeaveGroupRequest.MemberIdentity { MemberId = joined.MemberId } },
            }, 5);
            Assert.Equal((short)ErrorCode.None, leave.Members.Single().ErrorCode);
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }

    [Fact]
    public async Task ConsumerGroupHeartbeatThroughHandlersAssignsByTopicId()
    {
        using var dir = new TempDir();
        var stack = new GroupStack(dir.Path);
        await stack.StartAsync();
        try
        {
            var topic = stack.Store.CreateTopic("events", 4, 1).Topic!;
            var handler = new ConsumerGroupHeartbeatHandler(stack.Coordinator);
            var response = await stack.CallAsync<ConsumerGroupHeartbeatResponse>(handler, new ConsumerGroupHeartbeatRequest
            {
                GroupId = "cg-stack", MemberId = "member-a", MemberEpoch = 0, RebalanceTimeoutMs = 30000,
                SubscribedTopicNames = new List<string> { "events" }, TopicPartitions = new(),
            }, 1);
            Assert.Equal((short)ErrorCode.None, response.ErrorCode);
            Assert.Equal(1, response.MemberEpoch);
            Assert.Equal(topic.TopicId, response.Assignment!.TopicPartitions.Single().TopicId);
            Assert.Equal(new[] { 0, 1, 2, 3 }, response.Assignment.TopicPartitions.Single().Partitions);

            var described = await stack.CallAsync<ConsumerGroupDescribeResponse>(new ConsumerGroupDescribeHandler(stack.Coordinator, stack.Metadata),
                new ConsumerGroupDescribeRequest { GroupIds = { "cg-stack" } }, 0);
            Assert.Equal("events", described.Groups[0].Members[0].Assignment.TopicPartitions[0].TopicName);

            await stack.RestartAsync();
            var again = await stack.CallAsync<ConsumerGroupHeartbeatResponse>(new ConsumerGroupHeartbeatHandler(stack.Coordinator), new ConsumerGroupHeartbeatRequest
            {
                GroupId = "cg-stack", MemberId = "member-a", MemberEpoch = 1,
            }, 1);
            Assert.Equal((short)ErrorCode.None, again.ErrorCode);
            Assert.Equal(1, again.MemberEpoch);
        }
        finally
        {
            await stack.DisposeAsync();
        }
    }

    private sealed class EmptyProvider : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
