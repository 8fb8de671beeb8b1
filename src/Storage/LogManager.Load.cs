using Broker.Storage.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Broker.Storage;

/// <summary>Loading the log dirs at startup (Kafka LogManager.loadLogs).</summary>
public sealed partial class LogManager
{
    private void LoadLogDir(string dir)
    {
        Directory.CreateDirectory(dir);
        bool created = EnsureMetaProperties(dir);
        string marker = Path.Combine(dir, CleanShutdownFileName);
        // A dir we just initialised holds no logs, so there is nothing unclean to recover (and no
        // reason to alarm whoever starts a broker for the first time).
        bool clean = created || File.Exists(marker);
        Dictionary<TopicPartition, long> recoveryPoints = ReadCheckpoint(dir, OffsetCheckpointFile.RecoveryPointFileName);
        Dictionary<TopicPartition, long> logStartOffsets = ReadCheckpoint(dir, OffsetCheckpointFile.LogStartOffsetFileName);
        Dictionary<TopicPartition, long> highWatermarks = ReadCheckpoint(dir, OffsetCheckpointFile.ReplicationOffsetFileName);
        Dictionary<TopicPartition, long> cleanerOffsets = ReadCheckpoint(dir, OffsetCheckpointFile.CleanerOffsetFileName);
        if (!clean)
        {
            _logger.LogWarning("Log dir {Dir} was not shut down cleanly: recovering unflushed segments", dir);
        }

        foreach (string directory in Directory.EnumerateDirectories(dir))
        {
            string name = Path.GetFileName(directory);
            if (name.EndsWith(DeleteDirSuffix, StringComparison.Ordinal))
            {
                ScheduleDirectoryDelete(directory); // a deletion interrupted by the last shutdown
                continue;
            }

            if (name.EndsWith("-stray", StringComparison.Ordinal) || name.EndsWith("-future", StringComparison.Ordinal)
                || name.StartsWith("__cluster_metadata", StringComparison.Ordinal) || !TopicPartition.TryParseDirectoryName(name, out TopicPartition topicPartition))
            {
                continue;
            }

            if (_logs.ContainsKey(topicPartition))
            {
                _logger.LogError("Partition {Partition} has a directory in two log dirs; ignoring {Dir}", topicPartition, directory);
                continue;
            }

            var state = new PartitionLog.LoadState(
                clean,
                recoveryPoints.GetValueOrDefault(topicPartition, 0),
                logStartOffsets.GetValueOrDefault(topicPartition, 0),
                highWatermarks.GetValueOrDefault(topicPartition, 0));
            try
            {
                PartitionLog log = PartitionLog.Load(directory, topicPartition, Guid.Empty, Config.DefaultLogConfig, _time, _loggerFactory.CreateLogger<PartitionLog>(), state, _handleCache);
                log.SetCleanerCheckpoint(cleanerOffsets.GetValueOrDefault(topicPartition, -1));
                _logs[topicPartition] = log;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException)
            {
                _logger.LogError(e, "Partition {Partition} in {Dir} could not be loaded and is offline", topicPartition, directory);
                _offline[topicPartition] = e.Message;
            }
        }

        if (clean)
        {
            File.Delete(marker);
        }

        // The recovery points just computed are the new truth for this dir.
        CheckpointLogDir(dir);
        _logger.LogInformation("Loaded {Count} partitions from {Dir} ({Kind} shutdown)", _logs.Count, dir, clean ? "clean" : "unclean");
    }

    private Dictionary<TopicPartition, long> ReadCheckpoint(string dir, string fileName)
    {
        try
        {
            return new OffsetCheckpointFile(Path.Combine(dir, fileName)).Read();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
        {
            // Without recovery points everything is recovered from offset 0: slower, still correct.
            _logger.LogWarning(e, "Ignoring unreadable checkpoint {File} in {Dir}", fileName, dir);
            return new Dictionary<TopicPartition, long>();
        }
    }

    /// <summary>Checks the dir's meta.properties against this node; returns true when it had none and we wrote it.</summary>
    private bool EnsureMetaProperties(string dir)
    {
        MetaProperties? existing = MetaProperties.Read(dir);
        if (existing is null)
        {
            new MetaProperties(Config.NodeId, Config.ClusterId ?? string.Empty, Guid.NewGuid()).Write(dir);
            return true;
        }

        if (Config.NodeId >= 0 && existing.NodeId >= 0 && existing.NodeId != Config.NodeId)
        {
            throw new InvalidOperationException($"{dir} belongs to node {existing.NodeId}, this is node {Config.NodeId}.");
        }

        if (!string.IsNullOrEmpty(Config.ClusterId) && !string.IsNullOrEmpty(existing.ClusterId) && existing.ClusterId != Config.ClusterId)
        {
            throw new InvalidOperationException($"{dir} belongs to cluster {existing.ClusterId}, this is cluster {Config.ClusterId}.");
        }

        return false;
    }
}
