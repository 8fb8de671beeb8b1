using Microsoft.Extensions.Logging;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>A logger provider that keeps the broker's formatted log lines, for tests that assert a line was logged.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly List<(LogLevel Level, string Category, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Lines
    {
        get
        {
            lock (_lines) return _lines.ToArray();
        }
    }

    /// <summary>Waits (bounded) until a line at <paramref name="minLevel"/> or above contains every fragment; returns it.</summary>
    public async Task<string> WaitForAsync(LogLevel minLevel, TimeSpan timeout, params string[] fragments)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            foreach ((LogLevel level, _, string message) in Lines)
            {
                if (level >= minLevel && Array.TrueForAll(fragments, f => message.Contains(f, StringComparison.Ordinal))) return message;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"no {minLevel}+ log line containing [{string.Join(", ", fragments)}]; got:\n{string.Join("\n", Lines)}");
            }

            await Task.Delay(20); // polling a condition with a deadline, not synchronising by sleep
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._lines) owner._lines.Add((logLevel, category, formatter(state, exception)));
        }
    }
}
