using Broker.Handlers;
using Broker.Network;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Tests.Network;

/// <summary>
/// The generic error response matches what Kafka's per-API getErrorResponse produces: the error at
/// the highest level that has an error_code at the version, with the request's entries echoed.
/// </summary>
public sealed class ErrorResponseBuilderTests
{
    private const short Unknown = (short)ErrorCode.UnknownServerError;

    [Theory]
    [InlineData(3)]
    [InlineData(9)]
    [InlineData(11)]
    public void Produce_EveryPartitionGetsTheErrorAndAnInvalidOffset(short version)
    {
        var request = new ProduceRequest { Acks = -1 };
        var topic = new ProduceRequest.TopicProduceData { Name = "t1" };
        topic.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = 0 });
        topic.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = 3 });
        request.TopicData.Add(topic);

        var response = RoundTrip<ProduceResponse>(request, version);

        ProduceResponse.TopicProduceResponse t = Assert.Single(response.Responses);
        Assert.Equal("t1", t.Name);
        Assert.Equal(new[] { 0, 3 }, t.PartitionResponses.ConvertAll(p => p.Index));
        Assert.All(t.PartitionResponses, p =>
        {
            Assert.Equal(Unknown, p.ErrorCode);
            Assert.Equal(-1, p.BaseOffset);
            Assert.Null(p.ErrorMessage); // Kafka withholds the message of UNKNOWN_SERVER_ERROR
        });
    }

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(12)]
    public void FetchBelow13_TopLevelWhereItExistsAndEveryPartition(short version)
    {
        var request = new FetchRequest { SessionId = 77 };
        var topic = new FetchRequest.FetchTopic { Topic = "t2" };
        topic.Partitions.Add(new FetchRequest.FetchPartition { Partition = 1 });
        topic.Partitions.Add(new FetchRequest.FetchPartition { Partition = 2 });
        request.Topics.Add(topic);

        var response = RoundTrip<FetchResponse>(request, version);

        Assert.Equal(version >= 7 ? Unknown : (short)0, response.ErrorCode);
        Assert.Equal(version >= 7 ? 77 : 0, response.SessionId);
        FetchResponse.FetchableTopicResponse t = Assert.Single(response.Responses);
        Assert.Equal("t2", t.Topic);
        Assert.Equal(new[] { 1, 2 }, t.Partitions.ConvertAll(p => p.PartitionIndex));
        Assert.All(t.Partitions, p =>
        {
            Assert.Equal(Unknown, p.ErrorCode);
            Assert.Equal(-1, p.HighWatermark);
        });
    }

    [Fact]
    public void Fetch13_TopLevelErrorOnly()
    {
        var request = new FetchRequest();
        var topic = new FetchRequest.FetchTopic { TopicId = Guid.NewGuid() };
        topic.Partitions.Add(new FetchRequest.FetchPartition { Partition = 0 });
        request.Topics.Add(topic);

        var response = RoundTrip<FetchResponse>(request, 13);

        Assert.Equal(Unknown, response.ErrorCode);
        Assert.Empty(response.Responses);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(12)]
    public void Metadata_EveryRequestedTopicGetsTheError(short version)
    {
        var request = new MetadataRequest { Topics = new() { new MetadataRequest.MetadataRequestTopic { Name = "m1" }, new MetadataRequest.MetadataRequestTopic { Name = "m2" } } };

        var response = RoundTrip<MetadataResponse>(request, version);

        Assert.Equal(new[] { "m1", "m2" }, response.Topics.ConvertAll(t => t.Name));
        Assert.All(response.Topics, t =>
        {
            Assert.Equal(Unknown, t.ErrorCode);
            Assert.Empty(t.Partitions);
        });
        Assert.Empty(response.Brokers);
    }

    [Fact]
    public void Metadata_AllTopicsRequest_AnswersNoTopics()
    {
        var response = RoundTrip<MetadataResponse>(new MetadataRequest { Topics = null }, 12);
        Assert.Empty(response.Topics);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(9)]
    public void OffsetCommit_EveryPartitionGetsTheError(short version)
    {
        var request = new OffsetCommitRequest { GroupId = "g" };
        var topic = new OffsetCommitRequest.OffsetCommitRequestTopic { Name = "oc" };
        topic.Partitions.Add(new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 5, CommittedOffset = 10 });
        request.Topics.Add(topic);

        var response = RoundTrip<OffsetCommitResponse>(request, version);

        OffsetCommitResponse.OffsetCommitResponseTopic t = Assert.Single(response.Topics);
        Assert.Equal("oc", t.Name);
        OffsetCommitResponse.OffsetCommitResponsePartition p = Assert.Single(t.Partitions);
        Assert.Equal(5, p.PartitionIndex);
        Assert.Equal(Unknown, p.ErrorCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(9)]
    public void JoinGroup_TopLevelErrorWithNoMembers(short version)
    {
        var request = new JoinGroupRequest { GroupId = "g", ProtocolType = "consumer", MemberId = "m-1" };
        request.Protocols.Add(new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = new byte[] { 1 } });

        var response = RoundTrip<JoinGroupResponse>(request, version);

        Assert.Equal(Unknown, response.ErrorCode);
        Assert.Equal(-1, response.GenerationId);
        Assert.Equal(string.Empty, response.MemberId);
        Assert.Empty(response.Members);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    public void CreateTopics_EveryTopicGetsTheErrorAndNoConfigs(short version)
    {
        var request = new CreateTopicsRequest();
        var topic = new CreateTopicsRequest.CreatableTopic { Name = "c1", NumPartitions = 3, ReplicationFactor = 1 };
        topic.Configs.Add(new CreateTopicsRequest.CreatableTopicConfig { Name = "cleanup.policy", Value = "compact" });
        request.Topics.Add(topic);
        request.Topics.Add(new CreateTopicsRequest.CreatableTopic { Name = "c2", NumPartitions = 1, ReplicationFactor = 1 });

        var response = RoundTrip<CreateTopicsResponse>(request, version);

        Assert.Equal(new[] { "c1", "c2" }, response.Topics.ConvertAll(t => t.Name));
        Assert.All(response.Topics, t =>
        {
            Assert.Equal(Unknown, t.ErrorCode);
            Assert.True(t.Configs is null || t.Configs.Count == 0);
        });
    }

    [Fact]
    public void DescribeGroups_BareGroupIdsAreEchoedWithTheError()
    {
        var request = new DescribeGroupsRequest { Groups = new() { "a", "b" } };

        var response = RoundTrip<DescribeGroupsResponse>(request, 5);

        Assert.Equal(new[] { "a", "b" }, response.Groups.ConvertAll(g => g.GroupId));
        Assert.All(response.Groups, g => Assert.Equal(Unknown, g.ErrorCode));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public void DeleteTopics_ByNameBeforeV6AndByStateFromV6(short version)
    {
        var request = new DeleteTopicsRequest();
        if (version < 6) request.TopicNames.Add("d1");
        else request.Topics.Add(new DeleteTopicsRequest.DeleteTopicState { Name = "d1" });

        var response = RoundTrip<DeleteTopicsResponse>(request, version);

        DeleteTopicsResponse.DeletableTopicResult r = Assert.Single(response.Responses);
        Assert.Equal("d1", r.Name);
        Assert.Equal(Unknown, r.ErrorCode);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void FindCoordinator_TopLevelBeforeV4PerKeyFromV4(short version)
    {
        var request = new FindCoordinatorRequest();
        if (version < 4) request.Key = "g";
        else request.CoordinatorKeys.AddRange(new[] { "g1", "g2" });

        var response = RoundTrip<FindCoordinatorResponse>(request, version);

        if (version < 4)
        {
            Assert.Equal(Unknown, response.ErrorCode);
            Assert.Empty(response.Coordinators);
        }
        else
        {
            Assert.Equal(new[] { "g1", "g2" }, response.Coordinators.ConvertAll(c => c.Key));
            Assert.All(response.Coordinators, c => Assert.Equal(Unknown, c.ErrorCode));
        }
    }

    [Fact]
    public void OffsetFetchV1_PartitionsFromTheirIndexes()
    {
        var request = new OffsetFetchRequest { GroupId = "g", Topics = new() { new OffsetFetchRequest.OffsetFetchRequestTopic { Name = "of", PartitionIndexes = new() { 0, 4 } } } };

        var response = RoundTrip<OffsetFetchResponse>(request, 1);

        OffsetFetchResponse.OffsetFetchResponseTopic t = Assert.Single(response.Topics);
        Assert.Equal(new[] { 0, 4 }, t.Partitions.ConvertAll(p => p.PartitionIndex));
        Assert.All(t.Partitions, p => Assert.Equal(Unknown, p.ErrorCode));
    }

    [Fact]
    public void OffsetFetchV8_EveryGroupGetsTheError()
    {
        var request = new OffsetFetchRequest();
        request.Groups.Add(new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = "g1" });
        request.Groups.Add(new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = "g2" });

        var response = RoundTrip<OffsetFetchResponse>(request, 8);

        Assert.Equal(new[] { "g1", "g2" }, response.Groups.ConvertAll(g => g.GroupId));
        Assert.All(response.Groups, g => Assert.Equal(Unknown, g.ErrorCode));
    }

    [Fact]
    public void DeleteRecords_EveryPartitionGetsTheErrorAndAnInvalidLowWatermark()
    {
        var request = new DeleteRecordsRequest { TimeoutMs = 1000 };
        var topic = new DeleteRecordsRequest.DeleteRecordsTopic { Name = "dr" };
        topic.Partitions.Add(new DeleteRecordsRequest.DeleteRecordsPartition { PartitionIndex = 2, Offset = 10 });
        request.Topics.Add(topic);

        var response = RoundTrip<DeleteRecordsResponse>(request, 2);

        DeleteRecordsResponse.DeleteRecordsPartitionResult p = Assert.Single(Assert.Single(response.Topics).Partitions);
        Assert.Equal(2, p.PartitionIndex);
        Assert.Equal(Unknown, p.ErrorCode);
        Assert.Equal(-1, p.LowWatermark);
    }

    /// <summary>
    /// Every API the broker serves, at every version it advertises, gets an error response that
    /// serialises (the guarantee the connection relies on to stay open).
    /// </summary>
    [Fact]
    public void EveryServedApiAtEveryAdvertisedVersionHasAWritableErrorResponse()
    {
        var failures = new List<string>();
        int checkedCount = 0;
        foreach (Type type in HandlerRegistry.DiscoverHandlerTypes())
        {
            var handler = (IApiHandler)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(type);
            ApiInfo api = ApiMessages.Get(handler.ApiKey)!;
            for (short v = handler.MinVersion; v <= handler.MaxVersion; v++)
            {
                IResponse? response = ErrorResponseBuilder.Build(api.CreateRequest(), v, ErrorCode.UnknownServerError);
                checkedCount++;
                if (response is null) failures.Add($"{api.Name} v{v}");
            }
        }

        Assert.True(checkedCount > 100, $"only {checkedCount} api versions checked");
        Assert.Empty(failures);
    }

    /// <summary>
    /// The same guarantee for requests that carry entries: every list of the request (at every
    /// depth) holds two populated entries, so the builder echoes them; the response must be
    /// built, encode at the version and decode to exactly the bytes it wrote, with the error
    /// somewhere in it.
    /// </summary>
    [Fact]
    public void EveryServedApiAtEveryAdvertisedVersionEchoesPopulatedRequestsIntoAWritableErrorResponse()
    {
        var failures = new List<string>();
        foreach (Type type in HandlerRegistry.DiscoverHandlerTypes())
        {
            var handler = (IApiHandler)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(type);
            ApiInfo api = ApiMessages.Get(handler.ApiKey)!;
            for (short v = handler.MinVersion; v <= handler.MaxVersion; v++)
            {
                IRequest request = PopulatedAt(api, v);
                IResponse? response;
                try
                {
                    response = ErrorResponseBuilder.Build(request, v, ErrorCode.UnknownServerError);
                }
                catch (Exception e)
                {
                    failures.Add($"{api.Name} v{v}: threw {e.GetType().Name}: {e.Message}");
                    continue;
                }

                if (response is null)
                {
                    failures.Add($"{api.Name} v{v}: no response");
                    continue;
                }

                byte[] bytes = new byte[response.ComputeSize(v)];
                var writer = new KafkaWriter(bytes);
                response.Write(ref writer, v);
                var reader = new KafkaReader(bytes);
                IResponse decoded = api.CreateResponse();
                decoded.Read(ref reader, v);
                if (writer.Position != bytes.Length || reader.Failed || reader.Remaining != 0)
                {
                    failures.Add($"{api.Name} v{v}: does not round-trip");
                    continue;
                }

                byte[] again = new byte[decoded.ComputeSize(v)];
                var writer2 = new KafkaWriter(again);
                decoded.Write(ref writer2, v);
                if (!again.AsSpan().SequenceEqual(bytes))
                {
                    failures.Add($"{api.Name} v{v}: decoded response re-encodes differently");
                }

                // DescribeLogDirs has no error_code before v3 and Kafka's getErrorResponse sets
                // only the top-level one: its v1-2 error response is empty there too.
                if (!ContainsError(bytes) && !(request is DescribeLogDirsRequest && v < 3))
                {
                    failures.Add($"{api.Name} v{v}: the error code is nowhere in the response");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static bool ContainsError(byte[] bytes)
    {
        for (int i = 0; i + 1 < bytes.Length; i++)
        {
            if (System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(bytes.AsSpan(i)) == Unknown) return true;
        }

        return false;
    }

    /// <summary>A populated request as a client would send it at <paramref name="version"/>: fields the version lacks are reset, then it is encoded and decoded.</summary>
    private static IRequest PopulatedAt(ApiInfo api, short version)
    {
        IRequest request = api.CreateRequest();
        Populate(request, depth: 0);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                byte[] bytes = new byte[request.ComputeSize(version)];
                var writer = new KafkaWriter(bytes);
                request.Write(ref writer, version);
                var reader = new KafkaReader(bytes);
                IRequest decoded = api.CreateRequest();
                decoded.Read(ref reader, version);
                Assert.False(reader.Failed, $"{api.Name} v{version} request");
                return decoded;
            }
            catch (UnsupportedVersionException e) when (attempt < 50)
            {
                const string marker = "non-default ";
                int at = e.Message.IndexOf(marker, StringComparison.Ordinal);
                Assert.True(at >= 0, e.Message);
                string field = e.Message[(at + marker.Length)..].Split(' ')[0];
                ResetEverywhere(request, field);
            }
        }
    }

    private static void ResetEverywhere(object target, string field)
    {
        foreach (System.Reflection.PropertyInfo property in target.GetType().GetProperties())
        {
            if (!property.CanRead || property.GetIndexParameters().Length > 0) continue;
            if (property.Name == field && property.CanWrite)
            {
                object fresh = Activator.CreateInstance(target.GetType())!;
                property.SetValue(target, property.GetValue(fresh));
            }
            else if (property.GetValue(target) is System.Collections.IList list)
            {
                foreach (object? item in list)
                {
                    if (item is not null && item is not string && item.GetType().IsClass) ResetEverywhere(item, field);
                }
            }
        }
    }

    /// <summary>Fills every list with two entries (distinct keys) and every string with a value, recursively.</summary>
    private static void Populate(object target, int depth)
    {
        if (depth > 4) return;
        foreach (System.Reflection.PropertyInfo property in target.GetType().GetProperties())
        {
            if (!property.CanRead || property.GetIndexParameters().Length > 0) continue;
            Type t = property.PropertyType;
            if (t == typeof(string) && property.CanWrite)
            {
                property.SetValue(target, property.Name.ToLowerInvariant() + depth);
            }
            else if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
            {
                object? list = property.GetValue(target);
                if (list is null && property.CanWrite)
                {
                    list = Activator.CreateInstance(t);
                    property.SetValue(target, list);
                }

                if (list is not System.Collections.IList items || items.Count > 0) continue;
                Type element = t.GetGenericArguments()[0];
                for (int i = 0; i < 2; i++)
                {
                    object? entry = element == typeof(string) ? "s" + i
                        : element == typeof(int) ? i
                        : element == typeof(long) ? (long)i
                        : element == typeof(Guid) ? Guid.NewGuid()
                        : element.IsClass && element.GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance(element)
                        : null;
                    if (entry is null) break;
                    if (element.IsClass && element != typeof(string))
                    {
                        Populate(entry, depth + 1);
                        SetKey(entry, i);
                    }

                    items.Add(entry);
                }
            }
        }
    }

    private static void SetKey(object entry, int i)
    {
        foreach (string name in new[] { "PartitionIndex", "Partition", "Index", "PartitionId" })
        {
            System.Reflection.PropertyInfo? p = entry.GetType().GetProperty(name);
            if (p is { CanWrite: true } && p.PropertyType == typeof(int)) p.SetValue(entry, i);
        }

        System.Reflection.PropertyInfo? id = entry.GetType().GetProperty("TopicId");
        if (id is { CanWrite: true } && id.PropertyType == typeof(Guid)) id.SetValue(entry, Guid.NewGuid());
    }

    private static TResponse RoundTrip<TResponse>(IRequest request, short version)
        where TResponse : IResponse, new()
    {
        IResponse? built = ErrorResponseBuilder.Build(request, version, ErrorCode.UnknownServerError);
        Assert.NotNull(built);
        byte[] bytes = new byte[built.ComputeSize(version)];
        var writer = new KafkaWriter(bytes);
        built.Write(ref writer, version);
        var reader = new KafkaReader(bytes);
        var decoded = new TResponse();
        decoded.Read(ref reader, version);
        Assert.False(reader.Failed);
        return decoded;
    }
}
