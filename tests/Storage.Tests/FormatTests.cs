using System.Buffers.Binary;
using System.Text;
using Broker.Storage.Checkpoints;

namespace Broker.Storage.Tests;

/// <summary>Our files follow Kafka's on-disk formats byte for byte (so Kafka's tools can read them).</summary>
public class FormatTests
{
    [Fact(Timeout = 30_000)]
    public async Task SegmentFiles_AreNamedByTwentyDigitBaseOffset_AndIndexEntriesAreKafkasLayout()
    {
        await Task.Yield();
        using var fx = new LogFixture(LogConfig.Default with { IndexIntervalBytes = 1, SegmentBytes = 100_000 });
        var positions = new List<(long LastOffset, int Position, long MaxTimestamp)>();
        using (PartitionLog log = fx.Create())
        {
            int position = 0;
            for (int i = 0; i < 5; i++)
            {
                byte[] batch = TestBatches.Create(3, valueBytes: 10, baseTimestamp: 1000 + (i * 100));
                LogAppendInfo info = log.Append(batch, 0);
                positions.Add((info.LastOffset, position, info.MaxTimestamp));
                position += batch.Length;
            }
        }

        Assert.Equal("00000000000000000000.log", Path.GetFileName(fx.SegmentPath(0, ".log")));
        byte[] index = File.ReadAllBytes(fx.SegmentPath(0, ".index"));
        // index.interval.bytes=1: an entry before every batch but the first (bytes since last entry > 1).
        Assert.Equal(4 * 8, index.Length);
        for (int i = 0; i < 4; i++)
        {
            int relativeOffset = BinaryPrimitives.ReadInt32BigEndian(index.AsSpan(i * 8));
            int position = BinaryPrimitives.ReadInt32BigEndian(index.AsSpan((i * 8) + 4));
            Assert.Equal(positions[i + 1].LastOffset, relativeOffset);
            Assert.Equal(positions[i + 1].Position, position);
        }

        byte[] timeIndex = File.ReadAllBytes(fx.SegmentPath(0, ".timeindex"));
        Assert.Equal(0, timeIndex.Length % 12);
        long lastTimestamp = BinaryPrimitives.ReadInt64BigEndian(timeIndex.AsSpan(timeIndex.Length - 12));
        int lastTimestampOffset = BinaryPrimitives.ReadInt32BigEndian(timeIndex.AsSpan(timeIndex.Length - 4));
        Assert.Equal(positions[^1].MaxTimestamp, lastTimestamp);
        Assert.Equal(positions[^1].LastOffset, lastTimestampOffset);

        // The .log holds the batches back to back with the assigned offsets.
        var batches = TestBatches.Parse(File.ReadAllBytes(fx.SegmentPath(0, ".log")));
        Assert.Equal(positions.Select(p => p.LastOffset).ToArray(), batches.Select(b => b.LastOffset).ToArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task OffsetCheckpoint_IsKafkasTextFormat()
    {
        await Task.Yield();
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "recovery-point-offset-checkpoint");
        var file = new OffsetCheckpointFile(path);
        file.Write(new[] { new KeyValuePair<TopicPartition, long>(new("orders-eu", 3), 42), new(new("x", 0), 7) });
        Assert.Equal("0\n2\norders-eu 3 42\nx 0 7\n", File.ReadAllText(path));
        Assert.False(File.Exists(path + ".tmp"));
        Dictionary<TopicPartition, long> read = file.Read();
        Assert.Equal(42, read[new("orders-eu", 3)]);
        Assert.Equal(7, read[new("x", 0)]);
    }

    [Fact(Timeout = 30_000)]
    public async Task LeaderEpochCheckpoint_IsKafkasTextFormat()
    {
        await Task.Yield();
        using var fx = new LogFixture();
        using PartitionLog log = fx.Create();
        log.Append(TestBatches.Create(2), 4);
        log.Append(TestBatches.Create(3), 6);
        Assert.Equal("0\n2\n4 0\n6 2\n", File.ReadAllText(Path.Combine(fx.Directory, "leader-epoch-checkpoint")));
    }

    [Fact(Timeout = 30_000)]
    public async Task PartitionMetadata_PrintsTheTopicIdAsKafkaDoes()
    {
        await Task.Yield();
        using var dir = new TempDir();
        // Kafka Uuid(mostSigBits=1, leastSigBits=2).toString() == "AAAAAAAAAAEAAAAAAAAAAg".
        var id = new Guid(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 }, bigEndian: true);
        Assert.Equal("AAAAAAAAAAEAAAAAAAAAAg", KafkaUuid.ToKafkaString(id));
        Assert.Equal(id, KafkaUuid.Parse("AAAAAAAAAAEAAAAAAAAAAg"));
        PartitionMetadataFile.Write(dir.Path, id);
        Assert.Equal("version: 0\ntopic_id: AAAAAAAAAAEAAAAAAAAAAg\n", File.ReadAllText(Path.Combine(dir.Path, "partition.metadata")));
        Assert.Equal(id, PartitionMetadataFile.Read(dir.Path));

        // URL-safe alphabet, no padding.
        var high = new Guid(Enumerable.Repeat((byte)0xFB, 16).ToArray(), bigEndian: true);
        string text = KafkaUuid.ToKafkaString(high);
        Assert.DoesNotContain('+', text);
        Assert.DoesNotContain('/', text);
        Assert.DoesNotContain('=', text);
        Assert.Equal(22, text.Length);
    }

    [Fact(Timeout = 30_000)]
    public async Task MetaProperties_HasKraftFields()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var directoryId = Guid.NewGuid();
        new MetaProperties(3, "MkU3OEVBNTcwNTJENDM2Qg", directoryId).Write(dir.Path);
        string text = File.ReadAllText(Path.Combine(dir.Path, "meta.properties"));
        Assert.Contains("version=1\n", text);
        Assert.Contains("node.id=3\n", text);
        Assert.Contains("cluster.id=MkU3OEVBNTcwNTJENDM2Qg\n", text);
        Assert.Contains("directory.id=" + KafkaUuid.ToKafkaString(directoryId) + "\n", text);
        Assert.Equal(new MetaProperties(3, "MkU3OEVBNTcwNTJENDM2Qg", directoryId), MetaProperties.Read(dir.Path));
    }
}
