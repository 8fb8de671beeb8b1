using System.Reflection;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Handlers;

/// <summary>
/// The broker's API handlers, indexed by api key for dispatch. Handler types are found by
/// reflection over the Broker assembly (every concrete <see cref="IApiHandler"/>), registered
/// as singletons, and resolved from DI once when the registry is built. ApiVersions advertises
/// exactly what is here (DESIGN: "ApiVersions is derived from the handler registry").
/// </summary>
public sealed class HandlerRegistry
{
    private readonly IApiHandler?[] _byApiKey;
    private readonly IApiHandler[] _all;

    public HandlerRegistry(IEnumerable<IApiHandler> handlers)
    {
        var list = new List<IApiHandler>();
        int maxKey = -1;
        foreach (IApiHandler handler in handlers)
        {
            ApiInfo api = ApiMessages.Get(handler.ApiKey)
                ?? throw new InvalidOperationException($"{handler.GetType().Name} handles api key {handler.ApiKey}, which has no spec");
            if (handler.MinVersion < api.LowestSupportedVersion || handler.MaxVersion > api.HighestSupportedVersion || handler.MinVersion > handler.MaxVersion)
            {
                throw new InvalidOperationException(
                    $"{handler.GetType().Name} advertises versions {handler.MinVersion}..{handler.MaxVersion} of {api.Name}, outside the spec's {api.LowestSupportedVersion}..{api.HighestSupportedVersion}");
            }

            list.Add(handler);
            maxKey = Math.Max(maxKey, handler.ApiKey);
        }

        _byApiKey = new IApiHandler?[maxKey + 1];
        foreach (IApiHandler handler in list)
        {
            if (_byApiKey[handler.ApiKey] is { } other)
            {
                throw new InvalidOperationException($"Both {other.GetType().Name} and {handler.GetType().Name} handle api key {handler.ApiKey}");
            }

            _byApiKey[handler.ApiKey] = handler;
        }

        list.Sort(static (a, b) => a.ApiKey.CompareTo(b.ApiKey));
        _all = list.ToArray();
    }

    /// <summary>Handlers in api key order.</summary>
    public IReadOnlyList<IApiHandler> All => _all;

    /// <summary>The handler for an api key, or null when the broker does not serve it.</summary>
    public IApiHandler? Get(short apiKey) => (uint)apiKey < (uint)_byApiKey.Length ? _byApiKey[apiKey] : null;

    /// <summary>Concrete IApiHandler types in the given assembly (the Broker assembly by default).</summary>
    public static IReadOnlyList<Type> DiscoverHandlerTypes(Assembly? assembly = null)
    {
        var types = new List<Type>();
        foreach (Type type in (assembly ?? typeof(HandlerRegistry).Assembly).GetTypes())
        {
            if (type is { IsClass: true, IsAbstract: false } && typeof(IApiHandler).IsAssignableFrom(type) && !type.IsGenericTypeDefinition)
            {
                types.Add(type);
            }
        }

        types.Sort(static (a, b) => string.CompareOrdinal(a.FullName, b.FullName));
        return types;
    }

    /// <summary>Registers every discovered handler as a singleton, plus the registry itself.</summary>
    public static void Register(IServiceCollection services)
    {
        foreach (Type type in DiscoverHandlerTypes())
        {
            services.AddSingleton(type);
            services.AddSingleton(typeof(IApiHandler), sp => sp.GetRequiredService(type));
        }

        services.AddSingleton<HandlerRegistry>();
    }
}
