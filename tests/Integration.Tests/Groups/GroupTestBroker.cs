using Broker.Config;
using Broker.Hosting;
using Broker.Network;
using Broker.Replication.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// The real broker host in-process on port 0 with a temporary data dir, for the group tests.
/// Same surface as the shared TestBroker (StartAsync with overrides, BootstrapServers,
/// RestartAsync, UniqueTopic); it exists because the group tests were written before TestBroker
/// landed. Topics are created through the metadata store, so the tests do not depend on the
/// CreateTopics API.
/// </summary>
internal sealed class GroupTestBroker : IAsyncDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "group-it-" + Guid.NewGuid().ToString("N"));
    private readonly IReadOnlyDictionary<string, string> _overrides;
    private IHost? _host;
    private int _port;

    private GroupTestBroker(IReadOnlyDictionary<string, string> overrides) => _overrides = overrides;

    public string BootstrapServers => "127.0.0.1:" + _port;

    public static string UniqueTopic() => "groups-" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<GroupTestBroker> StartAsync(IReadOnlyDictionary<string, string>? overrides = null)
    {
        var broker = new GroupTestBroker(overrides ?? new Dictionary<string, string>());
        Directory.CreateDirectory(broker._dataDir);
        await broker.StartHostAsync(0);
        return broker;
    }

    private async Task StartHostAsync(int port)
    {
        var values = new Dictionary<string, string>
        {
            ["log.dirs"] = _dataDir,
            ["node.id"] = "1",
            ["listeners"] = $"PLAINTEXT://127.0.0.1:{port}",
            ["offsets.topic.num.partitions"] = "10",
        };
        foreach (var (key, value) in _overrides) values[key] = value;
        var config = new BrokerConfig(values);
        _host = BrokerHost.Build(config, logging => logging.SetMinimumLevel(LogLevel.Warning));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StartAsync(timeout.Token);
        _port = _host.Services.GetRequiredService<BrokerEndpoints>().For("PLAINTEXT")!.Value.Port;
    }

    public void CreateTopic(string name, int partitions)
    {
        var result = _host!.Services.GetRequiredService<TopicMetadataStore>().CreateTopic(name, partitions, 1);
        Assert.True(result.Succeeded, result.ErrorMessage);
    }

    /// <summary>Stops the host cleanly and starts it again on the same port over the same data.</summary>
    public async Task RestartAsync()
    {
        await StopHostAsync();
        await StartHostAsync(_port);
    }

    private async Task StopHostAsync()
    {
        if (_host is null) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
        _host = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopHostAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
