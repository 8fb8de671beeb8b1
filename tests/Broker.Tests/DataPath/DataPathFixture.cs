using Broker.Config;
using Broker.Fetch;
using Broker.Handlers;
using Broker.Network;
using Broker.Produce;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Storage;
using Broker.Tests.Replication;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Tests.DataPath;

/// <summary>
/// The data-path handlers over a real LogManager, metadata store and replica manager in a temp
/// dir, without the network: requests are the generated messages, and every response is written
/// at the request's version and read back, as the network layer would send it.
/// </summary>
internal sealed class DataPathFixture : IDisposable
{
    private readonly TempDir _dir = new();
    private long _connection;

    public DataPathFixture(params (string Key, string Value)[] overrides)
    {
        var values = new List<(string, string)> { ("log.dirs", _dir.Path), ("node.id", "1"), ("listeners", "PLAINTEXT://127.0.0.1:9092") };
        values.AddRange(overrides);
        Config = BrokerConfig.From(values.ToArray());
        Cluster = new ClusterIdentity(Config);
        var logs = new LogManager(DataPathServiceModule.ToLogManagerConfig(Config, Cluster.ClusterId));
        Store = new TopicMetadataStore(new TopicMetadataStoreOptions
        {
            MetadataDir = _dir.Path,
            NodeId = 1,
            DefaultNumPartitions = Config.GetInt("num.partitions"),
        });
        Replicas = new ReplicaManager(logs, Store, 1);
        Replicas.Startup();
        Sessions = new FetchSessionCache(Config.GetInt("max.incremental.fetch.session.cache.slots"));
        Produce = new ProduceHandler(Replicas, Config, NullLogger<ProduceHandler>.Instance);
        Fetch = new FetchHandler(Replicas, Sessions, Config);
        Metadata = new MetadataHandler(Replicas, Config, Cluster, new BrokerEndpoints(Config));
        ListOffsets = new ListOffsetsHandler(Replicas);
        OffsetForLeaderEpoch = new OffsetForLeaderEpochHandler(Replicas);
        var services = new EmptyServices();
        InitProducerId = new InitProducerIdHandler(new ProducerIdManager(Store), services);
    }

    public BrokerConfig Config { get; }

    public ClusterIdentity Cluster { get; }

    public TopicMetadataStore Store { get; }

    public ReplicaManager Replicas { get; }

    public FetchSessionCache Sessions { get; }

    public ProduceHandler Produce { get; }

    public FetchHandler Fetch { get; }

    public MetadataHandler Metadata { get; }

    public ListOffsetsHandler ListOffsets { get; }

    public OffsetForLeaderEpochHandler OffsetForLeaderEpoch { get; }

    public InitProducerIdHandler InitProducerId { get; }

    public void Dispose()
    {
        Replicas.Shutdown();
        _dir.Dispose();
    }

    public static string UniqueTopic() => "dp-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Runs a handler and round-trips the response through the wire format at <paramref name="version"/>.</summary>
    public async Task<TResponse?> CallAsync<TResponse>(IApiHandler handler, IRequest request, short version, CancellationToken cancellationToken = default)
        where TResponse : class, IResponse, new()
    {
        var header = new RequestHeader { RequestApiKey = handler.ApiKey, RequestApiVersion = version, CorrelationId = 1, ClientId = "test" };
        var context = new RequestContext(header, Interlocked.Increment(ref _connection), null, "PLAINTEXT");
        IApiMessage? response = await handler.HandleAsync(context, request, cancellationToken);
        if (response is null)
        {
            return null;
        }

        var typed = (TResponse)response;
        byte[] bytes = new byte[typed.ComputeSize(version)];
        var writer = new KafkaWriter(bytes);
        typed.Write(ref writer, version);
        Assert.Equal(bytes.Length, writer.Position);
        var reader = new KafkaReader(bytes);
        var decoded = new TResponse();
        decoded.Read(ref reader, version);
        Assert.False(reader.Failed);
        return decoded;
    }

    public static byte[] Batch(int records, CompressionType compression = CompressionType.None, long producerId = -1, short epoch = -1, int baseSequence = -1,
        long timestamp = -1, int valueBytes = 8)
    {
        long ts = timestamp >= 0 ? timestamp : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var builder = new RecordBatchBuilder(compression, producerId: producerId, producerEpoch: epoch, baseSequence: baseSequence);
        for (int i = 0; i < records; i++)
        {
            byte[] value = new byte[valueBytes];
            BitConverter.TryWriteBytes(value, i);
            builder.Append(ts, null, value);
        }

        using PooledBufferWriter built = builder.Build();
        return built.WrittenSpan.ToArray();
    }

    public static ProduceRequest ProduceRequestFor(string topic, int partition, byte[] records, short acks = -1) => new()
    {
        Acks = acks,
        TimeoutMs = 5000,
        TopicData =
        {
            new ProduceRequest.TopicProduceData
            {
                Name = topic,
                PartitionData = { new ProduceRequest.PartitionProduceData { Index = partition, Records = new MemoryRecords(records) } },
            },
        },
    };

    public static FetchRequest FetchRequestFor(string topic, Guid topicId, int partition, long offset, short version, int maxWaitMs = 0, int minBytes = 1,
        int partitionMaxBytes = 1 << 20, int sessionId = 0, int sessionEpoch = -1) => new()
    {
        ReplicaId = -1,
        MaxWaitMs = maxWaitMs,
        MinBytes = minBytes,
        MaxBytes = 50 << 20,
        SessionId = sessionId,
        SessionEpoch = sessionEpoch,
        Topics =
        {
            new FetchRequest.FetchTopic
            {
                Topic = version >= 13 ? "" : topic,
                TopicId = version >= 13 ? topicId : Guid.Empty,
                Partitions = { new FetchRequest.FetchPartition { Partition = partition, FetchOffset = offset, PartitionMaxBytes = partitionMaxBytes } },
            },
        },
    };

    /// <summary>The offsets of every record in a records blob (whole batches, any codec).</summary>
    public static List<long> RecordOffsets(BaseRecords? records)
    {
        var offsets = new List<long>();
        if (records is null || records.SizeInBytes == 0)
        {
            return offsets;
        }

        byte[] bytes = new byte[records.SizeInBytes];
        records.CopyTo(bytes);
        int position = 0;
        while (position < bytes.Length)
        {
            Assert.True(RecordBatchHeader.TryRead(bytes.AsSpan(position), out RecordBatchHeader header));
            ReadOnlySpan<byte> batch = bytes.AsSpan(position, header.SizeInBytes);
            using var scratch = new PooledBufferWriter();
            Assert.Equal(ErrorCode.None, RecordBatchRecords.TryGetRecords(batch, scratch, 1 << 26, out ReadOnlySpan<byte> section));
            foreach (Broker.Protocol.Records.Record record in new RecordEnumerator(section))
            {
                offsets.Add(header.BaseOffset + record.OffsetDelta);
            }

            position += header.SizeInBytes;
        }

        return offsets;
    }
}

/// <summary>No optional services (no transaction coordinator).</summary>
internal sealed class EmptyServices : IServiceProvider
{
    public object? GetService(Type serviceType) => null;
}
