using Broker.Protocol.Wire;

namespace Broker.Protocol;

/// <summary>Any generated message: API bodies, headers and internal-topic record keys/values.</summary>
public interface IMessage
{
    short LowestSupportedVersion { get; }
    short HighestSupportedVersion { get; }
    /// <summary>short.MaxValue when the message has no flexible versions.</summary>
    short LowestFlexibleVersion { get; }
    /// <summary>
    /// Reads the body into a freshly constructed instance (fields the version lacks keep their
    /// defaults; existing lists and structs are reused). Malformed input only sets reader.Failed.
    /// </summary>
    void Read(ref KafkaReader reader, short version);
    /// <summary>Writes exactly ComputeSize(version) bytes (minus spliced records).</summary>
    void Write(ref KafkaWriter writer, short version);
    int ComputeSize(short version);
}

/// <summary>A request or response body of one Kafka API.</summary>
public interface IApiMessage : IMessage
{
    short ApiKey { get; }
}

/// <summary>Marker for request bodies.</summary>
public interface IRequest : IApiMessage;

/// <summary>Marker for response bodies.</summary>
public interface IResponse : IApiMessage;
