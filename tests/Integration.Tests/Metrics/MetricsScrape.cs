using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Broker.Config;
using Broker.Integration.Tests.Infrastructure;
using Broker.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Integration.Tests.Metrics;

/// <summary>One sample of a scrape: metric name, labels, value.</summary>
internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// Starts a TestBroker serving /metrics and scrapes it over HTTP. metrics.port 0 means "off"
/// (as documented), so a free port is picked by binding port 0 and releasing it; if another
/// process takes it in between, the broker fails to start with a ConfigException on
/// metrics.port and another port is tried.
/// </summary>
internal static class MetricsScrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(15) };

    public static async Task<TestBroker> StartBrokerAsync(IReadOnlyDictionary<string, string>? overrides = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            var config = new Dictionary<string, string>(StringComparer.Ordinal) { ["metrics.port"] = FreePort().ToString(CultureInfo.InvariantCulture) };
            if (overrides is not null)
            {
                foreach (KeyValuePair<string, string> o in overrides) config[o.Key] = o.Value;
            }

            try
            {
                return await TestBroker.StartAsync(config);
            }
            catch (ConfigException e) when (e.Message.Contains("metrics", StringComparison.Ordinal) && attempt < 5)
            {
                // The port was taken between FreePort and the bind: try another.
            }
        }
    }

    public static Uri MetricsUri(TestBroker broker)
    {
        IPEndPoint bound = broker.Services.GetRequiredService<MetricsHttpServer>().BoundEndPoint
            ?? throw new InvalidOperationException("metrics endpoint not started");
        return new Uri($"http://127.0.0.1:{bound.Port}{MetricsHttpServer.Path}");
    }

    public static async Task<List<MetricSample>> ScrapeAsync(TestBroker broker, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await Http.GetAsync(MetricsUri(broker), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        return Parse(await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>The value of the one sample with this name whose labels include all of <paramref name="labels"/>; null when absent.</summary>
    public static double? Find(List<MetricSample> samples, string name, params (string Key, string Value)[] labels)
    {
        MetricSample? found = null;
        foreach (MetricSample sample in samples)
        {
            if (sample.Name != name || !Matches(sample, labels)) continue;
            Assert.True(found is null, $"more than one {name} sample matches");
            found = sample;
        }

        return found?.Value;
    }

    /// <summary>Sum over the samples with this name whose labels include <paramref name="labels"/> (0 when none).</summary>
    public static double Sum(List<MetricSample> samples, string name, params (string Key, string Value)[] labels)
    {
        double sum = 0;
        foreach (MetricSample sample in samples)
        {
            if (sample.Name == name && Matches(sample, labels)) sum += sample.Value;
        }

        return sum;
    }

    /// <summary>Scrapes until <paramref name="condition"/> holds or the token fires; returns the last scrape.</summary>
    public static async Task<List<MetricSample>> ScrapeUntilAsync(TestBroker broker, Func<List<MetricSample>, bool> condition, CancellationToken cancellationToken)
    {
        while (true)
        {
            List<MetricSample> samples = await ScrapeAsync(broker, cancellationToken);
            if (condition(samples)) return samples;
            await Task.Delay(50, cancellationToken);
        }
    }

    private static bool Matches(MetricSample sample, (string Key, string Value)[] labels)
    {
        foreach ((string key, string value) in labels)
        {
            if (!sample.Labels.TryGetValue(key, out string? actual) || actual != value) return false;
        }

        return true;
    }

    /// <summary>Prometheus text format 0.0.4: <c>name{a="x",b="y"} value</c> lines; comments skipped.</summary>
    internal static List<MetricSample> Parse(string text)
    {
        var samples = new List<MetricSample>();
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            int brace = line.IndexOf('{');
            int space;
            string name;
            if (brace >= 0)
            {
                name = line[..brace];
                int close = line.IndexOf('}', brace);
                foreach (string pair in line[(brace + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                }

                space = close + 1;
            }
            else
            {
                space = line.IndexOf(' ');
                name = line[..space];
            }

            string rest = line[space..].Trim();
            int end = rest.IndexOf(' ');
            string value = end < 0 ? rest : rest[..end];
            samples.Add(new MetricSample(name, labels, double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }

        return samples;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
