using System.Buffers.Binary;
using System.Text;

namespace Broker.Coordinator.Group;

/// <summary>
/// Reads the topic list from a classic "consumer" protocol subscription
/// (ConsumerProtocolSubscription: int16 version, then an int32-counted array of int16-length
/// strings in every version 0..3), which OffsetDelete needs to refuse deleting offsets of
/// topics the group still consumes (Kafka's GROUP_SUBSCRIBED_TO_TOPIC).
/// </summary>
public static class ConsumerProtocol
{
    public static bool TryReadSubscriptionTopics(ReadOnlySpan<byte> metadata, HashSet<string> topics)
    {
        if (metadata.Length < 6) return false;
        int count = BinaryPrimitives.ReadInt32BigEndian(metadata.Slice(2));
        int position = 6;
        if (count < 0 || count > metadata.Length) return false;
        for (int i = 0; i < count; i++)
        {
            if (position + 2 > metadata.Length) return false;
            int length = BinaryPrimitives.ReadInt16BigEndian(metadata.Slice(position));
            position += 2;
            if (length < 0 || position + length > metadata.Length) return false;
            topics.Add(Encoding.UTF8.GetString(metadata.Slice(position, length)));
            position += length;
        }
        return true;
    }
}
