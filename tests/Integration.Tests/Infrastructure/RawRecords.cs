using Broker.Integration.Tests.DataPath;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// What the raw-protocol tests build by hand: record batches of a known size (so byte counts can
/// be asserted exactly) and topics created over the wire.
/// </summary>
internal static class RawRecords
{
    /// <summary>A v2 batch of <paramref name="records"/> records, each a null key and a zeroed value of <paramref name="valueBytes"/>.</summary>
    public static byte[] Batch(int records, int valueBytes)
    {
        using var builder = new RecordBatchBuilder();
        for (int i = 0; i < records; i++)
        {
            builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, new byte[valueBytes]);
        }

        using PooledBufferWriter built = builder.Build();
        return built.WrittenSpan.ToArray();
    }

    /// <summary>CreateTopics v7 with replication factor 1; asserts the topic was created.</summary>
    public static async Task CreateTopicAsync(RawKafkaClient client, string topic, int partitions, CancellationToken ct)
    {
        var request = new CreateTopicsRequest
        {
            TimeoutMs = 10_000,
            Topics = [new CreateTopicsRequest.CreatableTopic { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }],
        };
        CreateTopicsResponse response = await client.SendAsync<CreateTopicsResponse>(request, CreateTopicsRequest.ApiKey, 7, ct);
        Assert.Equal(0, Assert.Single(response.Topics).ErrorCode);
    }
}
