using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.LoadTool;

/// <summary>Topic set-up for scenarios: creation through the Admin API (CreateTopics) and
/// waiting until metadata shows every partition with a leader.</summary>
internal static class Topics
{
    public static void Create(string bootstrapServers, string topic, int partitions, TimeSpan timeout)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        try
        {
            admin.CreateTopicsAsync(
                [new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }],
                new CreateTopicsOptions { RequestTimeout = timeout, OperationTimeout = timeout })
                .GetAwaiter().GetResult();
        }
        catch (CreateTopicsException e) when (e.Results.Count == 1 && e.Results[0].Error.Code == ErrorCode.TopicAlreadyExists)
        {
            // A re-run with the same name: use the topic as it is, checked below.
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_UnsupportedFeature)
        {
            // A broker without CreateTopics: the metadata request below auto-creates the topic
            // (auto.create.topics.enable) with the broker's num.partitions.
            Console.Error.WriteLine($"note: broker does not support CreateTopics ({e.Message}); relying on topic auto-creation");
        }
        var found = PartitionCount(admin, topic, timeout);
        if (found != partitions)
            throw new InvalidOperationException($"topic {topic} has {found} partitions, wanted {partitions} (a broker without CreateTopics creates num.partitions)");
    }

    /// <summary>Best effort: frees the broker's disk between scenarios.</summary>
    public static void TryDelete(string bootstrapServers, string topic)
    {
        try
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
            admin.DeleteTopicsAsync([topic], new DeleteTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(10) })
                .GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"note: could not delete topic {topic}: {e.Message}");
        }
    }

    public static int PartitionCount(IProducer<Null, byte[]> producer, string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        return PartitionCount(admin, topic, timeout);
    }

    /// <summary>Polls metadata until the topic exists and all its partitions have a leader.</summary>
    public static int PartitionCount(IAdminClient admin, string topic, TimeSpan timeout)
    {
        var start = Stopwatch.GetTimestamp();
        string last = "no metadata";
        while (Stopwatch.GetElapsedTime(start) < timeout)
        {
            try
            {
                var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(5));
                if (metadata.Topics.Count == 1)
                {
                    var t = metadata.Topics[0];
                    var ready = t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0;
                    foreach (var p in t.Partitions)
                        if (p.Leader < 0 || p.Error.Code != ErrorCode.NoError) ready = false;
                    if (ready) return t.Partitions.Count;
                    last = t.Error.ToString();
                }
            }
            catch (KafkaException e)
            {
                last = e.Message;
            }
            Thread.Sleep(100); // polling a remote condition; nothing to wait on
        }
        throw new InvalidOperationException($"topic {topic} not ready within {timeout}: {last}");
    }
}
