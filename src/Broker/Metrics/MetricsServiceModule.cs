using Broker.Config;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Metrics;

/// <summary>
/// Registers the metrics registry (always: handlers and connections count into it) and, when
/// metrics.port is not 0, the scrape-time collectors and the HTTP endpoint. Order 900: the
/// endpoint starts after storage, replication and the coordinators it reads, before the network,
/// and stops before them.
/// </summary>
public sealed class MetricsServiceModule : IServiceModule
{
    public int Order => 900;

    public void Register(IServiceCollection services, BrokerConfig config)
    {
        services.AddSingleton<BrokerMetrics>();
        if (config.GetInt("metrics.port") == 0)
        {
            return;
        }

        services.AddSingleton<ScrapeCollectors>();
        services.AddSingleton<MetricsHttpServer>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsHttpServer>());
    }
}
