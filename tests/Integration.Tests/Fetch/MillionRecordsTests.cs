using System.Diagnostics;
using Broker.Integration.Tests.DataPath;
using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Fetch;

public sealed class MillionRecordsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_million_small_records_come_back_in_order_without_loss_or_duplicates()
    {
        const int Count = 1_000_000;
        await using TestBroker broker = await TestBroker.StartAsync();
        string topic = TestBroker.UniqueTopic();
        var watch = Stopwatch.StartNew();
        long failed = 0;
        using (IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, Acks.All, CompressionType.Lz4, idempotent: true, c =>
        {
            c.LingerMs = 10;
            c.BatchSize = 512 * 1024;
            c.QueueBufferingMaxMessages = 500_000;
        }))
        {
            var tp = new TopicPartition(topic, 0);
            for (int i = 0; i < Count; i++)
            {
                while (true)
                {
                    try
                    {
                        producer.Produce(tp, new Message<byte[], byte[]> { Key = null!, Value = ClientHelpers.Value(i) }, report =>
                        {
                            if (report.Error.IsError)
                            {
                                Interlocked.Increment(ref failed);
                            }
                        });
                        break;
                    }
                    catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(50));
                    }
                }
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }

        output.WriteLine($"produced {Count} records in {watch.ElapsedMilliseconds} ms");
        Assert.Equal(0, Interlocked.Read(ref failed));

        watch.Restart();
        using IConsumer<byte[], byte[]> consumer = ClientHelpers.Consumer(broker.BootstrapServers, c => c.FetchMaxBytes = 50 << 20);
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        long expected = 0;
        var deadline = Stopwatch.StartNew();
        while (expected < Count && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            ConsumeResult<byte[], byte[]>? result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }

            Assert.Equal(expected, result.Offset.Value);
            Assert.Equal(expected, ClientHelpers.ValueOf(result.Message.Value));
            expected++;
        }

        output.WriteLine($"consumed {expected} records in {watch.ElapsedMilliseconds} ms");
        Assert.Equal(Count, expected);
        WatermarkOffsets watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10));
        Assert.Equal(Count, watermarks.High.Value);
        consumer.Close();
    }
}
