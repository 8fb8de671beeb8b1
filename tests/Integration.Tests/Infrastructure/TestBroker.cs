using Broker.Config;
using Broker.Hosting;
using Broker.Network;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// The real broker host in-process on 127.0.0.1 port 0 with a temporary data dir
/// (docs/contracts.md). RestartAsync keeps the data dir and the port; DisposeAsync
/// stops the host and deletes the dir.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    private readonly Dictionary<string, string> _config;
    private IHost? _host;

    private TestBroker(Dictionary<string, string> config, string dataDir)
    {
        _config = config;
        DataDir = dataDir;
    }

    public string DataDir { get; }

    public string BootstrapServers { get; private set; } = "";

    public IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException("Broker not running");

    /// <summary>Information-and-above log lines of the broker when started with captureLogs (null otherwise).</summary>
    public LogCapture? Logs { get; private set; }

    public static async Task<TestBroker> StartAsync(IReadOnlyDictionary<string, string>? overrides = null, bool captureLogs = false)
    {
        string dir = Path.Combine(Path.GetTempPath(), "broker-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["listeners"] = "PLAINTEXT://127.0.0.1:0",
            ["log.dirs"] = dir,
            ["offsets.topic.num.partitions"] = "4",
            ["group.initial.rebalance.delay.ms"] = "0",
            ["shutdown.timeout.ms"] = "10000",
        };
        if (overrides is not null)
        {
            foreach (KeyValuePair<string, string> o in overrides) config[o.Key] = o.Value;
        }

        var broker = new TestBroker(config, dir);
        if (captureLogs) broker.Logs = new LogCapture();
        try
        {
            await broker.StartHostAsync().ConfigureAwait(false);
        }
        catch
        {
            await broker.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return broker;
    }

    public static string UniqueTopic(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}";

    public async Task RestartAsync()
    {
        await StopHostAsync().ConfigureAwait(false);
        await StartHostAsync().ConfigureAwait(false);
    }

    private async Task StartHostAsync()
    {
        IHost host = BrokerHost.Build(new BrokerConfig(_config), logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole();
            if (Logs is not null)
            {
                logging.AddProvider(Logs);
                logging.AddFilter<LogCapture>(null, LogLevel.Information);
            }
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token).ConfigureAwait(false);
        _host = host;
        var server = host.Services.GetRequiredService<KafkaServer>();
        var endpoint = server.BoundEndPoints["PLAINTEXT"];
        BootstrapServers = $"127.0.0.1:{endpoint.Port}";

        // A restart comes back on the same port, as a real broker does: clients that were
        // connected before only know this address, and a restart test is about them.
        _config["listeners"] = $"PLAINTEXT://127.0.0.1:{endpoint.Port}";
    }

    private async Task StopHostAsync()
    {
        IHost? host = _host;
        _host = null;
        if (host is null) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(timeout.Token).ConfigureAwait(false);
        host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopHostAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still held open does not fail the test.
        }
    }
}
