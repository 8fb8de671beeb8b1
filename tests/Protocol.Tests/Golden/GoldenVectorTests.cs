using System.Buffers.Binary;
using Broker.Protocol.Compression;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Golden;

/// <summary>
/// Request frames captured from real clients talking to our broker through tools/CaptureProxy
/// (how: Golden/README.md). Each must decode with the generated messages, consume every byte,
/// re-encode byte for byte, and carry the values the capture run used (client id, topics named
/// after their codec, group id, acks). Unlike round trips of our own encoder, these catch a
/// field read at the wrong version or in the wrong order, because another implementation wrote
/// the bytes (tansu's tests/decode.rs does the same with captured frames).
/// </summary>
public sealed class GoldenVectorTests
{
    /// <summary>What the capture run for one client did; the test checks the frames agree.</summary>
    private sealed record CaptureProfile(
        string Directory,
        string ClientId,
        string TopicPrefix,
        string[] Codecs,
        string GroupId,
        string GroupTopic,
        short[] ApiKeys);

    private static readonly CaptureProfile[] Profiles =
    [
        // Confluent.Kafka 2.16.0 (librdkafka 2.16): admin, one producer per codec with acks=all,
        // an idempotent producer, a consumer group over golden-none.
        new("confluent", "golden-confluent", "golden-", ["none", "gzip", "snappy", "lz4", "zstd"],
            "golden-group-confluent", "golden-none",
            [ApiVersionsRequest.ApiKey, MetadataRequest.ApiKey, ProduceRequest.ApiKey,
             InitProducerIdRequest.ApiKey, FindCoordinatorRequest.ApiKey, JoinGroupRequest.ApiKey, SyncGroupRequest.ApiKey,
             OffsetFetchRequest.ApiKey, FetchRequest.ApiKey, OffsetCommitRequest.ApiKey]),
        // kafka-python 2.0.2: the same codecs (python3-lz4/-snappy/-zstandard installed), older API versions.
        new("kafka-python", "golden-kafka-python", "golden-py-", ["none", "gzip", "snappy", "lz4", "zstd"],
            "golden-group-kafka-python", "golden-py-none",
            [ApiVersionsRequest.ApiKey, MetadataRequest.ApiKey, ProduceRequest.ApiKey,
             FindCoordinatorRequest.ApiKey, JoinGroupRequest.ApiKey, SyncGroupRequest.ApiKey, OffsetFetchRequest.ApiKey,
             FetchRequest.ApiKey, OffsetCommitRequest.ApiKey]),
        // kafkajs 2.2.4: only gzip is built in (other codecs need plugins); idempotent producer.
        new("kafkajs", "golden-kafkajs", "golden-js-", ["none", "gzip"],
            "golden-group-kafkajs", "golden-js-none",
            [ApiVersionsRequest.ApiKey, MetadataRequest.ApiKey, ProduceRequest.ApiKey,
             InitProducerIdRequest.ApiKey, FindCoordinatorRequest.ApiKey, JoinGroupRequest.ApiKey, SyncGroupRequest.ApiKey,
             OffsetFetchRequest.ApiKey, FetchRequest.ApiKey, OffsetCommitRequest.ApiKey]),
        // kcat 1.7.1 with Debian's librdkafka 2.0.2 (older than Confluent.Kafka's): topics
        // auto-created by the producer's Metadata request, a balanced consumer (-G). librdkafka
        // before 2.10 compresses with gzip, snappy and lz4 only if the broker advertises Produce
        // v0-v2 (KAFKA-18659, librdkafka#4956); these were captured once we advertised them.
        new("kcat", "golden-kcat", "golden-kcat-", ["none", "gzip", "snappy", "lz4", "zstd"],
            "golden-group-kcat", "golden-kcat-none",
            [ApiVersionsRequest.ApiKey, MetadataRequest.ApiKey, ProduceRequest.ApiKey, FindCoordinatorRequest.ApiKey,
             JoinGroupRequest.ApiKey, SyncGroupRequest.ApiKey, OffsetFetchRequest.ApiKey, FetchRequest.ApiKey,
             OffsetCommitRequest.ApiKey]),
    ];

    public static TheoryData<string> AllVectors()
    {
        var data = new TheoryData<string>();
        foreach (var client in GoldenVector.Clients())
            foreach (var vector in GoldenVector.Load(client))
                data.Add(vector.Id);
        return data;
    }

    public static TheoryData<string> CapturedClients()
    {
        var data = new TheoryData<string>();
        foreach (var client in GoldenVector.Clients()) data.Add(client);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllVectors))]
    public void Vector_decodes_completely_and_reencodes_byte_for_byte(string id)
    {
        var vector = GoldenVector.LoadOne(id);
        var (header, body) = vector.Decode();
        Assert.Equal(vector.ApiKey, header.RequestApiKey);
        Assert.Equal(vector.ApiVersion, header.RequestApiVersion);
        Assert.Equal(vector.ApiKey, body.ApiKey);
        Assert.Equal(Profile(vector.Client).ClientId, header.ClientId);

        var encoded = vector.Encode(header, body);
        var expected = vector.Bytes.AsSpan(0, vector.Bytes.Length - vector.TrailingBytes);
        if (!encoded.AsSpan().SequenceEqual(expected))
        {
            var first = encoded.AsSpan().CommonPrefixLength(expected);
            Assert.Fail($"{id}: re-encoded {encoded.Length} bytes differ from the captured {expected.Length} at byte {first}\n" +
                        $"captured: {Hex(vector.Bytes, first)}\nencoded:  {Hex(encoded, first)}");
        }
    }

    [Fact]
    public void Every_profile_has_vectors_and_every_vector_directory_has_a_profile()
    {
        var directories = GoldenVector.Clients().ToArray();
        Assert.Equal(Profiles.Select(p => p.Directory).Order(StringComparer.Ordinal), directories);
    }

    [Theory]
    [MemberData(nameof(CapturedClients))]
    public void Vectors_cover_the_apis_the_capture_exercised(string client)
    {
        var profile = Profile(client);
        var captured = GoldenVector.Load(client).Select(v => v.ApiKey).ToHashSet();
        foreach (var apiKey in profile.ApiKeys)
            Assert.True(captured.Contains(apiKey), $"{client}: no vector for {ApiMessages.Get(apiKey)!.Name} (api key {apiKey})");
    }

    [Theory]
    [MemberData(nameof(CapturedClients))]
    public void Produce_vectors_carry_intact_v2_batches_compressed_with_the_codec_their_topic_names(string client)
    {
        var profile = Profile(client);
        var codecsSeen = new HashSet<string>();
        foreach (var vector in Vectors(client, ProduceRequest.ApiKey))
        {
            var produce = (ProduceRequest)vector.Decode().Body;
            // acks=all on the wire is -1 (Kafka's ProduceRequest: -1 waits for the full ISR).
            Assert.True(produce.Acks == -1, $"{vector}: acks {produce.Acks}, expected -1 (all)");
            Assert.True(produce.TimeoutMs > 0, $"{vector}: timeout {produce.TimeoutMs}");
            Assert.Null(produce.TransactionalId);
            Assert.NotEmpty(produce.TopicData);
            foreach (var topic in produce.TopicData)
            {
                Assert.StartsWith(profile.TopicPrefix, topic.Name);
                var codec = topic.Name[profile.TopicPrefix.Length..];
                if (codec == "idempotent") codec = "none";
                Assert.Contains(codec, profile.Codecs);
                codecsSeen.Add(codec);
                foreach (var partition in topic.PartitionData)
                {
                    var records = Assert.IsType<MemoryRecords>(partition.Records);
                    AssertBatches(vector, records.Buffer.Span, ParseCodec(codec));
                }
            }
        }
        Assert.Equal(profile.Codecs.Order(), codecsSeen.Order());
    }

    [Theory]
    [MemberData(nameof(CapturedClients))]
    public void Group_vectors_name_the_group_and_the_subscribed_topic(string client)
    {
        var profile = Profile(client);

        var joins = Vectors(client, JoinGroupRequest.ApiKey).Select(v => (v, (JoinGroupRequest)v.Decode().Body)).ToArray();
        Assert.NotEmpty(joins);
        foreach (var (vector, join) in joins)
        {
            Assert.Equal(profile.GroupId, join.GroupId);
            Assert.Equal("consumer", join.ProtocolType);
            Assert.True(join.SessionTimeoutMs > 0, $"{vector}: session timeout {join.SessionTimeoutMs}");
            Assert.NotEmpty(join.Protocols);
            foreach (var protocol in join.Protocols)
            {
                // The protocol metadata is the embedded consumer protocol (KIP-429's
                // ConsumerProtocolSubscription), version-prefixed: it must decode as well.
                var subscription = DecodeVersioned<ConsumerProtocolSubscription>(vector, protocol.Metadata);
                Assert.Contains(profile.GroupTopic, subscription.Topics);
            }
        }

        var syncs = Vectors(client, SyncGroupRequest.ApiKey).Select(v => (v, (SyncGroupRequest)v.Decode().Body)).ToArray();
        Assert.NotEmpty(syncs);
        var sawAssignment = false;
        foreach (var (vector, sync) in syncs)
        {
            Assert.Equal(profile.GroupId, sync.GroupId);
            Assert.True(sync.GenerationId >= 0, $"{vector}: generation {sync.GenerationId}");
            Assert.False(string.IsNullOrEmpty(sync.MemberId), $"{vector}: no member id");
            foreach (var assignment in sync.Assignments)
            {
                // The leader (the only member here) sends everyone's assignment.
                var decoded = DecodeVersioned<ConsumerProtocolAssignment>(vector, assignment.Assignment);
                Assert.Contains(decoded.AssignedPartitions, p => p.Topic == profile.GroupTopic && p.Partitions.Count > 0);
                sawAssignment = true;
            }
        }
        Assert.True(sawAssignment, $"{client}: no SyncGroup from the leader carries an assignment");

        var commits = Vectors(client, OffsetCommitRequest.ApiKey).Select(v => (v, (OffsetCommitRequest)v.Decode().Body)).ToArray();
        Assert.Equal(profile.ApiKeys.Contains(OffsetCommitRequest.ApiKey), commits.Length > 0);
        foreach (var (vector, commit) in commits)
        {
            Assert.Equal(profile.GroupId, commit.GroupId);
            var topic = Assert.Single(commit.Topics);
            Assert.Equal(profile.GroupTopic, topic.Name);
            Assert.All(topic.Partitions, p => Assert.True(p.CommittedOffset > 0, $"{vector}: committed offset {p.CommittedOffset}"));
        }

        foreach (var vector in Vectors(client, FindCoordinatorRequest.ApiKey))
        {
            var find = (FindCoordinatorRequest)vector.Decode().Body;
            // v0-v3 carry one key, v4+ a batch (KIP-699); type 0 = group, 1 = transaction.
            var keys = vector.ApiVersion >= 4 ? find.CoordinatorKeys : [find.Key];
            Assert.Contains(profile.GroupId, keys);
        }
    }

    [Theory]
    [MemberData(nameof(CapturedClients))]
    public void Fetch_vectors_are_consumer_fetches_with_valid_offsets(string client)
    {
        var fetches = Vectors(client, FetchRequest.ApiKey).Select(v => (v, (FetchRequest)v.Decode().Body)).ToArray();
        Assert.NotEmpty(fetches);
        var sawPartition = false;
        foreach (var (vector, fetch) in fetches)
        {
            // A consumer's replica id is -1: in the body before v15, in ReplicaState from v15 (KIP-903).
            var replicaId = vector.ApiVersion >= 15 ? fetch.ReplicaState.ReplicaId : fetch.ReplicaId;
            Assert.Equal(-1, replicaId);
            Assert.True(fetch.MaxWaitMs > 0 && fetch.MaxBytes > 0, $"{vector}: max wait {fetch.MaxWaitMs} ms, max bytes {fetch.MaxBytes}");
            foreach (var topic in fetch.Topics)
            {
                // Topic names until v12, topic ids from v13 (KIP-516).
                if (vector.ApiVersion >= 13) Assert.NotEqual(Guid.Empty, topic.TopicId);
                else Assert.False(string.IsNullOrEmpty(topic.Topic), $"{vector}: fetch without topic name");
                foreach (var partition in topic.Partitions)
                {
                    Assert.True(partition.FetchOffset >= 0 && partition.PartitionMaxBytes > 0,
                        $"{vector}: partition {partition.Partition} offset {partition.FetchOffset} max bytes {partition.PartitionMaxBytes}");
                    sawPartition = true;
                }
            }
        }
        // Incremental fetch-session requests may list no partitions, but the first one lists them.
        Assert.True(sawPartition, $"{client}: no fetch vector names a partition");
    }

    [Theory]
    [MemberData(nameof(CapturedClients))]
    public void Handshake_vectors_carry_the_client_identity(string client)
    {
        var profile = Profile(client);
        foreach (var vector in Vectors(client, ApiVersionsRequest.ApiKey))
        {
            var request = (ApiVersionsRequest)vector.Decode().Body;
            // v3+ names the client software (KIP-511); the name must be a valid identifier.
            if (vector.ApiVersion >= 3)
                Assert.Matches("^[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?$", request.ClientSoftwareName);
        }
        var sawOwnTopic = false;
        foreach (var vector in Vectors(client, MetadataRequest.ApiKey))
        {
            var metadata = (MetadataRequest)vector.Decode().Body;
            foreach (var topic in metadata.Topics ?? [])
                sawOwnTopic |= topic.Name?.StartsWith(profile.TopicPrefix, StringComparison.Ordinal) == true;
        }
        Assert.True(sawOwnTopic, $"{client}: no Metadata vector asks for one of the capture's topics ({profile.TopicPrefix}*)");

        foreach (var vector in Vectors(client, InitProducerIdRequest.ApiKey))
        {
            var init = (InitProducerIdRequest)vector.Decode().Body;
            // An idempotent (non-transactional) producer asks for a fresh id (KIP-98, KIP-360).
            Assert.Null(init.TransactionalId);
            Assert.Equal(-1L, init.ProducerId);
            Assert.Equal((short)-1, init.ProducerEpoch);
        }

        foreach (var vector in Vectors(client, CreateTopicsRequest.ApiKey))
        {
            var create = (CreateTopicsRequest)vector.Decode().Body;
            Assert.NotEmpty(create.Topics);
            Assert.All(create.Topics, t => Assert.StartsWith(profile.TopicPrefix, t.Name));
        }
    }

    private static void AssertBatches(GoldenVector vector, ReadOnlySpan<byte> records, CompressionType codec)
    {
        Assert.True(records.Length >= RecordBatchHeader.HeaderSize, $"{vector}: {records.Length} bytes of records");
        var batches = 0;
        while (records.Length > 0)
        {
            Assert.True(records.Length >= RecordBatchHeader.HeaderSize, $"{vector}: truncated batch header");
            var batch = new RecordBatchHeader(records);
            Assert.Equal(RecordBatchHeader.MagicV2, batch.Magic);
            Assert.True(batch.SizeInBytes <= records.Length, $"{vector}: batch of {batch.SizeInBytes} bytes, {records.Length} left");
            // The codec is the low 3 bits of the attributes (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd):
            // read the raw field too, so a misparsed header cannot agree with itself.
            var attributes = BinaryPrimitives.ReadInt16BigEndian(records[RecordBatchHeader.AttributesOffset..]);
            Assert.True((attributes & 0x07) == (int)codec, $"{vector}: batch attributes 0x{attributes:x4}, expected codec {codec}");
            Assert.Equal(codec, batch.CompressionType);
            Assert.True(batch.RecordCount > 0, $"{vector}: empty batch");
            Assert.Equal(batch.RecordCount - 1, batch.LastOffsetDelta);
            Assert.False(batch.IsTransactional || batch.IsControl, $"{vector}: unexpected transactional/control batch");
            // The CRC32C covers attributes through the end of the batch (KIP-98's v2 format).
            var crc = Crc32C.Compute(records[RecordBatchHeader.AttributesOffset..batch.SizeInBytes]);
            Assert.True(crc == batch.Crc, $"{vector}: batch CRC {batch.Crc:x8} but content hashes to {crc:x8}");
            // The records section must decompress with that codec into exactly RecordCount records.
            using (var scratch = new PooledBufferWriter())
            {
                var error = RecordBatchRecords.TryGetRecords(records[..batch.SizeInBytes], scratch, 1 << 20, out var section);
                Assert.True(error == ErrorCode.None, $"{vector}: {codec} records section does not decompress ({error})");
                var enumerator = new RecordEnumerator(section);
                while (enumerator.MoveNext()) { }
                Assert.False(enumerator.Failed, $"{vector}: malformed record after {enumerator.Count} records");
                Assert.Equal(batch.RecordCount, enumerator.Count);
                Assert.Equal(0, enumerator.RemainingBytes);
            }
            records = records[batch.SizeInBytes..];
            batches++;
        }
        Assert.True(batches > 0);
    }

    private static T DecodeVersioned<T>(GoldenVector vector, byte[] bytes) where T : IMessage, new()
    {
        Assert.True(bytes.Length >= 2, $"{vector}: embedded {typeof(T).Name} of {bytes.Length} bytes");
        var version = BinaryPrimitives.ReadInt16BigEndian(bytes);
        var message = new T();
        // Newer writers may use a version we do not know; Kafka reads those at its highest
        // version (ConsumerProtocol.deserializeSubscription), since later versions only append.
        var readVersion = Math.Min(version, message.HighestSupportedVersion);
        var reader = new KafkaReader(bytes.AsMemory(2));
        message.Read(ref reader, readVersion);
        Assert.False(reader.Failed, $"{vector}: embedded {typeof(T).Name} v{version} does not decode");
        if (version == readVersion)
            Assert.True(reader.Remaining == 0, $"{vector}: {reader.Remaining} bytes left after embedded {typeof(T).Name} v{version}");
        return message;
    }

    private static IEnumerable<GoldenVector> Vectors(string client, short apiKey) =>
        GoldenVector.Load(client).Where(v => v.ApiKey == apiKey);

    private static CaptureProfile Profile(string client) =>
        Profiles.SingleOrDefault(p => p.Directory == client)
        ?? throw new InvalidOperationException($"Golden/{client} has no capture profile in GoldenVectorTests");

    private static CompressionType ParseCodec(string codec) => Enum.Parse<CompressionType>(codec, ignoreCase: true);

    private static string Hex(byte[] bytes, int around)
    {
        var start = Math.Max(0, around - 8);
        var length = Math.Min(bytes.Length - start, 32);
        return $"[{start}..] " + Convert.ToHexString(bytes, start, Math.Max(0, length));
    }
}
