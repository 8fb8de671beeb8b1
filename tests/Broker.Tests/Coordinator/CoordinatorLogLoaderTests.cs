using Broker.Coordinator.Group;
using Broker.Storage;

namespace Broker.Tests.Coordinator;

public class CoordinatorLogLoaderTests
{
    [Fact]
    public void BatchesAppendedToAPartitionLogReplayInOrder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "gc-loader-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var manager = new LogManager(new LogManagerConfig { LogDirs = new[] { dir } });
            manager.Startup();
            var log = manager.GetOrCreateLog(new TopicPartition(GroupPartitioner.ConsumerOffsetsTopic, 7), Guid.NewGuid(),
                LogConfig.Default with { CleanupPolicy = "compact" });
            for (int batch = 0; batch < 50; batch++)
            {
                var records = new List<GroupRecord>();
                for (int i = 0; i < 20; i++)
                    records.Add(new OffsetCommitRecord("g" + (i % 3), "t", i, new OffsetAndMetadata(batch * 100 + i, -1, "", 1)));
                using var encoded = CoordinatorRecordCodec.EncodeBatch(records, 1000 + batch);
                var info = log.Append(encoded.WrittenMemoryMutable, 0);
                Assert.Equal(Broker.Protocol.ErrorCode.None, info.Error);
            }
            var replayed = CoordinatorLogLoader.ReadAll(log, CancellationToken.None).Cast<OffsetCommitRecord>().ToList();
            Assert.Equal(1000, replayed.Count);
            Assert.Equal(0, replayed[0].Value!.Offset);
            Assert.Equal(4919, replayed[^1].Value!.Offset);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
