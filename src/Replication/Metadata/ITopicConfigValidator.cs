using Broker.Protocol;

namespace Broker.Replication.Metadata;

/// <summary>
/// Checks a topic's full set of config overrides against the broker's topic config catalogue
/// (known names, types, ranges), for CreateTopics and the AlterConfigs APIs. Register one in DI
/// and the metadata store uses it; without one only numeric values are parsed.
/// </summary>
public interface ITopicConfigValidator
{
    /// <summary>None, or INVALID_CONFIG (or POLICY_VIOLATION) with Kafka's message.</summary>
    (ErrorCode Error, string? Message) Validate(IReadOnlyDictionary<string, string> configs);
}
