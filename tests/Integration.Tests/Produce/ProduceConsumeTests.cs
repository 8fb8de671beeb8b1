using Broker.Integration.Tests.DataPath;
using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;

namespace Broker.Integration.Tests.Produce;

/// <summary>Confluent.Kafka (librdkafka) producing and consuming through the real broker.</summary>
public sealed class ProduceConsumeTests
{
    public static TheoryData<CompressionType, Acks> CodecsAndAcks()
    {
        var data = new TheoryData<CompressionType, Acks>();
        foreach (CompressionType codec in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
        {
            data.Add(codec, Acks.All);
        }

        data.Add(CompressionType.Lz4, Acks.Leader);
        data.Add(CompressionType.None, Acks.Leader);
        return data;
    }

    [Theory]
    [MemberData(nameof(CodecsAndAcks))]
    public async Task Every_codec_round_trips_in_order(CompressionType codec, Acks acks)
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        string topic = TestBroker.UniqueTopic();
        const int Count = 2000;
        using IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, acks, codec, idempotent: acks == Acks.All);
        List<DeliveryResult<byte[], byte[]>> delivered = await ClientHelpers.ProduceValuesAsync(producer, topic, Count);
        Assert.All(delivered, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), delivered.Select(d => d.Offset.Value).Order());

        List<ConsumeResult<byte[], byte[]>> consumed = ClientHelpers.ConsumeFrom(broker.BootstrapServers, topic, 0, Offset.Beginning, Count, ClientHelpers.TestTimeout);
        Assert.Equal(Count, consumed.Count);
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(i, consumed[i].Offset.Value);
            Assert.Equal(i, ClientHelpers.ValueOf(consumed[i].Message.Value));
            Assert.Equal(i, ClientHelpers.ValueOf(consumed[i].Message.Key));
        }
    }

    [Fact]
    public async Task Acks_zero_records_arrive_without_offsets_in_the_reports()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        string topic = TestBroker.UniqueTopic();
        // Create the topic first so that no fire-and-forget record races the auto-creation.
        using (IProducer<byte[], byte[]> setup = ClientHelpers.Producer(broker.BootstrapServers, Acks.Leader))
        {
            await ClientHelpers.ProduceValuesAsync(setup, topic, 1);
        }

        using IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, Acks.None);
        List<DeliveryResult<byte[], byte[]>> delivered = await ClientHelpers.ProduceValuesAsync(producer, topic, 500);
        Assert.All(delivered, d => Assert.NotEqual(PersistenceStatus.NotPersisted, d.Status));

        List<ConsumeResult<byte[], byte[]>> consumed = ClientHelpers.ConsumeFrom(broker.BootstrapServers, topic, 0, Offset.Beginning, 501, ClientHelpers.TestTimeout);
        Assert.Equal(501, consumed.Count);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), consumed.Skip(1).Select(c => ClientHelpers.ValueOf(c.Message.Value)));
    }

    [Fact]
    public async Task Assign_and_seek_read_from_the_requested_offset()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        string topic = TestBroker.UniqueTopic();
        using IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, Acks.All, idempotent: true);
        await ClientHelpers.ProduceValuesAsync(producer, topic, 100);

        List<ConsumeResult<byte[], byte[]>> fromMiddle = ClientHelpers.ConsumeFrom(broker.BootstrapServers, topic, 0, new Offset(42), 58, ClientHelpers.TestTimeout);
        Assert.Equal(Enumerable.Range(42, 58).Select(i => (long)i), fromMiddle.Select(c => c.Offset.Value));

        using IConsumer<byte[], byte[]> consumer = ClientHelpers.Consumer(broker.BootstrapServers);
        var tp = new TopicPartition(topic, 0);
        consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        ConsumeResult<byte[], byte[]>? first = ConsumeOne(consumer);
        Assert.Equal(0, first!.Offset.Value);
        consumer.Seek(new TopicPartitionOffset(tp, 90));
        ConsumeResult<byte[], byte[]>? afterSeek = ConsumeOne(consumer);
        Assert.Equal(90, afterSeek!.Offset.Value);
        Assert.Equal(90, ClientHelpers.ValueOf(afterSeek.Message.Value));

        WatermarkOffsets watermarks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
        Assert.Equal(0, watermarks.Low.Value);
        Assert.Equal(100, watermarks.High.Value);
        consumer.Close();
    }

    [Fact]
    public async Task Timestamps_and_offsets_for_times()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        string topic = TestBroker.UniqueTopic();
        using IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, Acks.All, CompressionType.Zstd, idempotent: true);
        long baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 100_000;
        for (int i = 0; i < 10; i++)
        {
            await producer.ProduceAsync(topic, new Message<byte[], byte[]>
            {
                Key = ClientHelpers.Value(i),
                Value = ClientHelpers.Value(i),
                Timestamp = new Timestamp(baseTime + i * 1000, TimestampType.CreateTime),
            }).WaitAsync(ClientHelpers.TestTimeout);
        }

        using IConsumer<byte[], byte[]> consumer = ClientHelpers.Consumer(broker.BootstrapServers);
        List<TopicPartitionOffset> found = consumer.OffsetsForTimes(
            [new TopicPartitionTimestamp(topic, 0, new Timestamp(baseTime + 4500, TimestampType.CreateTime))], TimeSpan.FromSeconds(10));
        Assert.Equal(5, Assert.Single(found).Offset.Value);

        List<ConsumeResult<byte[], byte[]>> consumed = ClientHelpers.ConsumeFrom(broker.BootstrapServers, topic, 0, Offset.Beginning, 10, ClientHelpers.TestTimeout);
        Assert.Equal(baseTime + 3000, consumed[3].Message.Timestamp.UnixTimestampMs);
        Assert.Equal(TimestampType.CreateTime, consumed[3].Message.Timestamp.Type);
    }

    private static ConsumeResult<byte[], byte[]>? ConsumeOne(IConsumer<byte[], byte[]> consumer)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < ClientHelpers.TestTimeout)
        {
            ConsumeResult<byte[], byte[]>? result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is not null && !result.IsPartitionEOF)
            {
                return result;
            }
        }

        return null;
    }
}
