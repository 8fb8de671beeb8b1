using Broker.Config;
using Microsoft.Extensions.DependencyInjection;

namespace Broker;

/// <summary>
/// Each area of the broker (network, storage, replication, group coordinator, ...) registers its
/// services here, so areas never edit a shared composition file. Implementations are found by
/// reflection over the Broker assembly, created with a public parameterless constructor, and
/// called once at startup in the order of <see cref="Order"/> then type name.
/// Services that need starting and stopping register an IHostedService; hosted services start in
/// registration order and stop in reverse, so register dependencies (storage) before dependents.
/// </summary>
public interface IServiceModule
{
    /// <summary>Lower first. Storage 100, Replication 200, coordinators 300, network 1000.</summary>
    int Order => 500;

    void Register(IServiceCollection services, BrokerConfig config);
}
