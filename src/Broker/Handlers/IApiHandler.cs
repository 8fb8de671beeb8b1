using Broker.Protocol;

namespace Broker.Handlers;

/// <summary>
/// One Kafka API. Implementations live in <c>src/Broker/Handlers/&lt;Api&gt;Handler.cs</c>, are
/// discovered by reflection over the Broker assembly and resolved from DI (constructor
/// injection, singletons). The version range is what ApiVersions advertises, so it must lie
/// inside the spec's range (checked at startup by <see cref="HandlerRegistry"/>).
/// </summary>
public interface IApiHandler
{
    short ApiKey { get; }
    short MinVersion { get; }
    /// <summary>What ApiVersions advertises; at most the spec's highest version.</summary>
    short MaxVersion { get; }

    /// <summary>
    /// Handles one request. <paramref name="request"/> is the generated request class for
    /// <see cref="ApiKey"/> (cast it). Byte and records fields may be slices of the connection's
    /// request buffer, which stays valid until the returned task completes — copy anything kept
    /// longer. Returns the response body, or null for no response (produce with acks=0).
    /// The cancellation token fires when the connection closes or the broker shuts down.
    /// </summary>
    ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken);
}
