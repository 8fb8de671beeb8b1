using Broker.Config;
using Broker.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Broker.Network;

/// <summary>
/// Registers the handlers (found by reflection), the registry, the advertised endpoints and the
/// socket server. Order 1000: the server's hosted service is registered after every other area's,
/// so it starts last and stops first.
/// </summary>
public sealed class NetworkServiceModule : IServiceModule
{
    public int Order => 1000;

    public void Register(IServiceCollection services, BrokerConfig config)
    {
        HandlerRegistry.Register(services);
        services.AddSingleton(sp => new BrokerEndpoints(sp.GetRequiredService<BrokerConfig>()));
        services.AddSingleton<KafkaServer>();
        services.AddHostedService(sp => sp.GetRequiredService<KafkaServer>());
    }
}
