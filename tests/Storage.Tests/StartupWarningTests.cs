using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Storage.Tests;

/// <summary>
/// The first start of a broker on an empty data dir used to warn "was not shut down cleanly":
/// there was no clean-shutdown marker because there had never been a shutdown. Only a dir that
/// already holds a node's data and lacks the marker is an unclean restart.
/// </summary>
public class StartupWarningTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_new_log_dir_is_not_reported_as_unclean_but_a_crashed_one_is()
    {
        await Task.Yield();
        using var dir = new TempDir();
        var logger = new RecordingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logger));
        var config = new LogManagerConfig { LogDirs = new[] { dir.Path } };

        var first = new LogManager(config, new FakeTimeProvider(), factory);
        first.Startup();
        Assert.DoesNotContain(logger.Warnings(), w => w.Contains("not shut down cleanly", StringComparison.Ordinal));
        first.GetOrCreateLog(new TopicPartition("warn-" + Guid.NewGuid().ToString("N")[..8], 0), Guid.NewGuid()).Append(TestBatches.Create(1), 0);
        // No Shutdown: the process "crashes", so the marker is never written.

        var second = new LogManager(config, new FakeTimeProvider(), factory);
        second.Startup();
        Assert.Contains(logger.Warnings(), w => w.Contains("not shut down cleanly", StringComparison.Ordinal));
        second.Shutdown();
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _warnings = new();

        public List<string> Warnings()
        {
            lock (_warnings)
            {
                return new List<string>(_warnings);
            }
        }

        public ILogger CreateLogger(string categoryName) => new Recorder(this);

        public void Dispose()
        {
        }

        private sealed class Recorder(RecordingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Warning)
                {
                    lock (owner._warnings)
                    {
                        owner._warnings.Add(formatter(state, exception));
                    }
                }
            }
        }
    }
}
