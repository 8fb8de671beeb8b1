using System.Diagnostics;
using System.Text;
using Broker.Integration.Tests.Infrastructure;
using Broker.Storage;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Integration.Tests.DataPath;

/// <summary>A compacted topic created and read with Confluent.Kafka: the broker's cleaner removes superseded records.</summary>
public sealed class CompactionTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_compacted_topic_keeps_the_latest_value_of_each_key_for_consumers()
    {
        await using TestBroker broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["log.cleaner.backoff.ms"] = "100" });
        string topic = TestBroker.UniqueTopic("compacted");
        using (IAdminClient admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = topic,
                NumPartitions = 1,
                ReplicationFactor = 1,
                Configs = new Dictionary<string, string>
                {
                    ["cleanup.policy"] = "compact",
                    ["segment.bytes"] = "2048",
                    ["min.cleanable.dirty.ratio"] = "0.01",
                },
            }]);
        }

        var latest = new Dictionary<string, string>();
        using (IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, Acks.All))
        {
            for (int i = 0; i < 300; i++)
            {
                string key = "key-" + (i % 10);
                string value = "value-" + i;
                latest[key] = value;

                // One at a time: every request is a small batch, well below segment.bytes.
                await producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes(value) });
            }
        }

        PartitionLog log = broker.Services.GetRequiredService<LogManager>().GetLog(new Storage.TopicPartition(topic, 0))!;
        var deadline = Stopwatch.StartNew();
        while (log.CleanerCheckpoint <= 0 && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50); // polling the cleaner's progress with a deadline, not synchronising on time
        }

        long cleanUpTo = log.CleanerCheckpoint;
        Assert.True(cleanUpTo > 100, $"cleaned up to {cleanUpTo}");

        var seenBelowCheckpoint = new HashSet<string>();
        var lastSeen = new Dictionary<string, string>();
        int consumed = 0;
        using (IConsumer<byte[], byte[]> consumer = ClientHelpers.Consumer(broker.BootstrapServers, c => c.EnablePartitionEof = true))
        {
            consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, Offset.Beginning));
            long previous = -1;
            while (deadline.Elapsed < TimeSpan.FromSeconds(100))
            {
                ConsumeResult<byte[], byte[]>? result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null)
                {
                    continue;
                }

                if (result.IsPartitionEOF)
                {
                    break;
                }

                consumed++;
                Assert.True(result.Offset.Value > previous, "offsets increase (with gaps where records were removed)");
                previous = result.Offset.Value;
                string key = Encoding.UTF8.GetString(result.Message.Key);
                lastSeen[key] = Encoding.UTF8.GetString(result.Message.Value);
                if (result.Offset.Value < cleanUpTo)
                {
                    Assert.True(seenBelowCheckpoint.Add(key), $"{key} appears twice in the compacted part");
                }
            }

            Assert.Equal(299, previous); // the log end is unchanged
        }

        Assert.True(consumed < 300, $"{consumed} records read back");
        Assert.Equal(latest, lastSeen);
    }
}
