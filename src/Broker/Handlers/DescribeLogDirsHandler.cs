// DescribeLogDirs (API key 35), versions 1-4 (KIP-113; v4 adds volume sizes, KIP-827).
// One result per configured log dir (absolute path, duplicates collapsed): the volume's total and
// usable bytes, and per topic/partition hosted there the size of its segments in bytes, the offset
// lag (high watermark minus log end offset, floored at 0, as Kafka's ReplicaManager computes it
// for a current log) and is_future_key (always false: there is no AlterReplicaLogDirs, so no
// future logs). Topics null = every partition; otherwise only the listed partitions, and topics
// left with no partition in a dir are omitted (Kafka 3.5+). A dir that cannot be read answers
// KAFKA_STORAGE_ERROR with no topics.
// Differences from Kafka: version 0 is not offered, as Kafka 4.0 dropped it (KIP-896). No
// authorisation, so the top-level error_code (v3+) is always NONE.
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Storage;
using Microsoft.Extensions.Logging;

namespace Broker.Handlers;

public sealed class DescribeLogDirsHandler(LogManager logManager, ILogger<DescribeLogDirsHandler> logger) : IApiHandler
{
    public short ApiKey => DescribeLogDirsRequest.ApiKey;
    public short MinVersion => 1;
    public short MaxVersion => 4;

    public ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (DescribeLogDirsRequest)request;
        HashSet<TopicPartition>? wanted = WantedPartitions(req);
        var response = new DescribeLogDirsResponse();

        // Logs grouped by the absolute path of their parent dir, each dir's topics in name order.
        var byDir = new Dictionary<string, SortedDictionary<string, List<PartitionLog>>>(StringComparer.Ordinal);
        foreach (PartitionLog log in logManager.AllLogs)
        {
            if (wanted is not null && !wanted.Contains(log.TopicPartition))
            {
                continue;
            }

            string dir = Path.GetFullPath(Path.GetDirectoryName(log.Directory)!);
            if (!byDir.TryGetValue(dir, out SortedDictionary<string, List<PartitionLog>>? topics))
            {
                topics = new SortedDictionary<string, List<PartitionLog>>(StringComparer.Ordinal);
                byDir[dir] = topics;
            }

            if (!topics.TryGetValue(log.TopicPartition.Topic, out List<PartitionLog>? logs))
            {
                logs = new List<PartitionLog>();
                topics[log.TopicPartition.Topic] = logs;
            }

            logs.Add(log);
        }

        var seenDirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (string configured in logManager.LogDirs)
        {
            string dir = Path.GetFullPath(configured);
            if (seenDirs.Add(dir))
            {
                response.Results.Add(Describe(dir, byDir.GetValueOrDefault(dir)));
            }
        }

        return ValueTask.FromResult<IApiMessage?>(response);
    }

    private static HashSet<TopicPartition>? WantedPartitions(DescribeLogDirsRequest req)
    {
        if (req.Topics is null)
        {
            return null;
        }

        var wanted = new HashSet<TopicPartition>();
        foreach (DescribeLogDirsRequest.DescribableLogDirTopic topic in req.Topics)
        {
            foreach (int partition in topic.Partitions)
            {
                wanted.Add(new TopicPartition(topic.Topic, partition));
            }
        }

        return wanted;
    }

    private DescribeLogDirsResponse.DescribeLogDirsResult Describe(string dir, SortedDictionary<string, List<PartitionLog>>? topics)
    {
        var result = new DescribeLogDirsResponse.DescribeLogDirsResult { LogDir = dir };
        try
        {
            // statvfs of the dir's volume: Java's FileStore total and usable space.
            var volume = new DriveInfo(dir);
            result.TotalBytes = volume.TotalSize;
            result.UsableBytes = volume.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning(e, "Unable to describe log dir {LogDir}", dir);
            result.ErrorCode = (short)ErrorCode.KafkaStorageError;
            return result;
        }

        if (topics is null)
        {
            return result;
        }

        foreach ((string name, List<PartitionLog> logs) in topics)
        {
            logs.Sort(static (a, b) => a.TopicPartition.Partition.CompareTo(b.TopicPartition.Partition));
            var topic = new DescribeLogDirsResponse.DescribeLogDirsTopic { Name = name };
            foreach (PartitionLog log in logs)
            {
                topic.Partitions.Add(new DescribeLogDirsResponse.DescribeLogDirsPartition
                {
                    PartitionIndex = log.TopicPartition.Partition,
                    PartitionSize = log.SizeInBytes,
                    OffsetLag = Math.Max(log.HighWatermark - log.LogEndOffset, 0),
                    IsFutureKey = false,
                });
            }

            result.Topics.Add(topic);
        }

        return result;
    }
}
