using System.Reflection;
using Broker.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Hosting;

/// <summary>
/// Composes the broker on the .NET Generic Host. Every area registers its services through an
/// <see cref="IServiceModule"/> found by reflection; hosted services start in registration order
/// (modules sorted by Order) and stop in reverse, so the network listener (registered last)
/// stops accepting and drains before the coordinators, replication and storage stop and write
/// their checkpoints. The console lifetime turns SIGTERM and Ctrl-C into that ordered stop.
/// </summary>
public static class BrokerHost
{
    /// <summary>Entry point: returns the process exit code (non-zero on bad configuration or a failed start).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        BrokerConfig? config = await LoadConfigAsync(args, Environment.GetEnvironmentVariables(), Console.Error).ConfigureAwait(false);
        if (config is null) return 2;

        using IHost host = Build(config);
        try
        {
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is ConfigException or InvalidOperationException or IOException or System.Net.Sockets.SocketException)
        {
            host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Broker").LogCritical(e, "Broker stopped: {Message}", e.Message);
            return 1;
        }
    }

    /// <summary>
    /// The configuration from the command line and environment, or null after writing why it is
    /// invalid to <paramref name="error"/> (the message names the key, as Kafka's ConfigException does).
    /// </summary>
    public static async Task<BrokerConfig?> LoadConfigAsync(string[] args, System.Collections.IDictionary environment, TextWriter error)
    {
        try
        {
            CommandLine commandLine = CommandLine.Parse(args);
            var raw = BrokerConfigLoader.Load(commandLine.ConfigPath, environment, commandLine.Overrides);
            return new BrokerConfig(raw);
        }
        catch (Exception e) when (e is ConfigException or ArgumentException)
        {
            await error.WriteLineAsync($"Broker not started: {e.Message}").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Builds (does not start) a host for the given configuration. Tests use this too.</summary>
    public static IHost Build(BrokerConfig config, Action<ILoggingBuilder>? configureLogging = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = Array.Empty<string>() });
        builder.Logging.ClearProviders();
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }
        else
        {
            configureLogging(builder.Logging);
        }

        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(config.GetLong("shutdown.timeout.ms"));
            // A failing background service must stop the broker, not leave a half-alive process.
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<StartupLogger>();
        foreach (IServiceModule module in DiscoverModules())
        {
            module.Register(builder.Services, config);
        }

        configureServices?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>IServiceModule implementations in the Broker assembly, by Order then type name.</summary>
    public static IReadOnlyList<IServiceModule> DiscoverModules(Assembly? assembly = null)
    {
        var modules = new List<IServiceModule>();
        foreach (Type type in (assembly ?? typeof(BrokerHost).Assembly).GetTypes())
        {
            if (type is { IsClass: true, IsAbstract: false } && typeof(IServiceModule).IsAssignableFrom(type))
            {
                modules.Add((IServiceModule)Activator.CreateInstance(type)!);
            }
        }

        modules.Sort(static (a, b) =>
        {
            int c = a.Order.CompareTo(b.Order);
            return c != 0 ? c : string.CompareOrdinal(a.GetType().FullName, b.GetType().FullName);
        });
        return modules;
    }
}

/// <summary>Logs the effective configuration's notable facts and warns about unknown keys (as Kafka's AbstractConfig.logUnused does).</summary>
internal sealed class StartupLogger(BrokerConfig config, ILogger<StartupLogger> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (string key in config.UnknownKeys)
        {
            logger.LogWarning("The configuration '{Key}' was supplied but isn't a known config", key);
        }

        logger.LogInformation("Starting broker node.id={NodeId} log.dirs={LogDirs} listeners={Listeners}",
            config.NodeId, string.Join(',', config.LogDirs), string.Join(',', config.GetList("listeners")));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
