using System.Buffers.Binary;
using System.Diagnostics;
using Confluent.Kafka;

namespace Broker.Integration.Tests.DataPath;

/// <summary>Confluent.Kafka producers and consumers for the data-path tests, bounded in time.</summary>
internal static class ClientHelpers
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    public static IProducer<byte[], byte[]> Producer(string bootstrap, Acks acks, CompressionType compression = CompressionType.None, bool idempotent = false,
        Action<ProducerConfig>? configure = null)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = acks,
            CompressionType = compression,
            EnableIdempotence = idempotent,
            LingerMs = 5,
            MessageTimeoutMs = 30_000,
            SocketTimeoutMs = 10_000,
        };
        configure?.Invoke(config);
        return new ProducerBuilder<byte[], byte[]>(config).Build();
    }

    public static IConsumer<byte[], byte[]> Consumer(string bootstrap, Action<ConsumerConfig>? configure = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "data-path-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 100,
            SocketTimeoutMs = 10_000,
        };
        configure?.Invoke(config);
        return new ConsumerBuilder<byte[], byte[]>(config).Build();
    }

    public static byte[] Value(long i)
    {
        byte[] value = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(value, i);
        return value;
    }

    public static long ValueOf(byte[] value) => BinaryPrimitives.ReadInt64BigEndian(value);

    /// <summary>Reads from <paramref name="start"/> until <paramref name="count"/> records arrived or the deadline passed.</summary>
    public static List<ConsumeResult<byte[], byte[]>> ConsumeFrom(string bootstrap, string topic, int partition, Offset start, int count, TimeSpan timeout)
    {
        using IConsumer<byte[], byte[]> consumer = Consumer(bootstrap);
        consumer.Assign(new TopicPartitionOffset(topic, partition, start));
        var results = new List<ConsumeResult<byte[], byte[]>>(count);
        var deadline = Stopwatch.StartNew();
        while (results.Count < count && deadline.Elapsed < timeout)
        {
            ConsumeResult<byte[], byte[]>? result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is not null && !result.IsPartitionEOF)
            {
                results.Add(result);
            }
        }

        consumer.Close();
        return results;
    }

    /// <summary>Produces values 0..count-1 to one partition and waits for every delivery report.</summary>
    public static async Task<List<DeliveryResult<byte[], byte[]>>> ProduceValuesAsync(IProducer<byte[], byte[]> producer, string topic, int count, int partition = 0)
    {
        var tasks = new List<Task<DeliveryResult<byte[], byte[]>>>(count);
        for (int i = 0; i < count; i++)
        {
            tasks.Add(producer.ProduceAsync(new TopicPartition(topic, partition), new Message<byte[], byte[]> { Key = Value(i), Value = Value(i) }));
        }

        producer.Flush(TestTimeout);
        return [.. await Task.WhenAll(tasks).WaitAsync(TestTimeout)];
    }
}
