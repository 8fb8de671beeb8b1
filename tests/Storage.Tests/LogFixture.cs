using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Storage.Tests;

/// <summary>Opens PartitionLogs over a temp dir with a fake clock, and reopens them after "crashes".</summary>
internal sealed class LogFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public LogFixture(LogConfig? config = null)
    {
        Config = config ?? LogConfig.Default;
        Time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        TopicPartition = new TopicPartition("t-" + Guid.NewGuid().ToString("N").Substring(0, 8), 0);
        Directory = System.IO.Path.Combine(_dir.Path, TopicPartition.DirectoryName);
    }

    public LogConfig Config { get; set; }

    public FakeTimeProvider Time { get; }

    public TopicPartition TopicPartition { get; }

    public string Directory { get; }

    public string Root => _dir.Path;

    public PartitionLog Create(SegmentHandleCache? handleCache = null) =>
        PartitionLog.Create(Directory, TopicPartition, Guid.NewGuid(), Config, Time, NullLogger.Instance, handleCache);

    public PartitionLog Open(bool clean, long recoveryPoint = 0, long logStartOffset = 0, long highWatermark = 0, SegmentHandleCache? handleCache = null) =>
        PartitionLog.Load(Directory, TopicPartition, Guid.Empty, Config, Time, NullLogger.Instance,
            new PartitionLog.LoadState(clean, recoveryPoint, logStartOffset, highWatermark), handleCache);

    public string SegmentPath(long baseOffset, string suffix) =>
        System.IO.Path.Combine(Directory, LogSegment.FileName(baseOffset, suffix));

    public void Dispose() => _dir.Dispose();
}
