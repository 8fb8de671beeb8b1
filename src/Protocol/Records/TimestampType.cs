namespace Broker.Protocol.Records;

/// <summary>
/// Bit 3 of a v2 batch's attributes (magic 1 messages use the same bit). Kafka's
/// <c>TimestampType</c>; <see cref="NoTimestampType"/> is what magic 0 messages have.
/// </summary>
public enum TimestampType : sbyte
{
    NoTimestampType = -1,
    CreateTime = 0,
    LogAppendTime = 1,
}
