using System.Buffers.Binary;
using System.Text;

namespace Broker.Coordinator.Group;

/// <summary>A classic member's embedded subscription (ConsumerProtocolSubscription v0-v3).</summary>
public sealed record ClassicSubscription(
    IReadOnlyList<string> Topics,
    /// <summary>null when the version has no owned partitions (v0).</summary>
    IReadOnlyList<(string Topic, int Partition)>? OwnedPartitions,
    int GenerationId,
    string? RackId);

/// <summary>
/// Reads and writes the "consumer" embedded protocol (Kafka's ConsumerProtocolSubscription and
/// ConsumerProtocolAssignment), which the coordinator must understand to move classic members
/// into a consumer group (KIP-848 online migration). Layout: int16 version, then fields that only
/// ever grow at the end, so a reader stops where the version stops.
/// </summary>
public static class ConsumerProtocolCodec
{
    public static bool TryReadSubscription(ReadOnlySpan<byte> data, out ClassicSubscription? subscription)
    {
        subscription = null;
        var reader = new Reader(data);
        if (!reader.Int16(out short version) || version < 0) return false;
        if (!reader.StringArray(out var topics) || !reader.NullableBytes()) return false;
        List<(string, int)>? owned = null;
        int generation = -1;
        string? rack = null;
        if (version >= 1)
        {
            if (!reader.TopicPartitions(out owned)) return false;
        }
        if (version >= 2 && !reader.Int32(out generation)) return false;
        if (version >= 3 && !reader.NullableString(out rack)) return false;
        subscription = new ClassicSubscription(topics!, owned, generation, rack);
        return true;
    }

    /// <summary>An empty byte array is an empty assignment (a member that never got one).</summary>
    public static bool TryReadAssignment(ReadOnlySpan<byte> data, out List<(string Topic, int Partition)> partitions)
    {
        partitions = new List<(string, int)>();
        if (data.Length == 0) return true;
        var reader = new Reader(data);
        if (!reader.Int16(out short version) || version < 0) return false;
        if (!reader.TopicPartitions(out var read)) return false;
        partitions = read!;
        return true;
    }

    /// <summary>ConsumerProtocolAssignment v0 (the layout every version shares), no user data.</summary>
    public static byte[] WriteAssignment(IEnumerable<(string Topic, IReadOnlyList<int> Partitions)> topics)
    {
        using var stream = new MemoryStream();
        var buffer = new byte[4];
        void Int16(short v) { BinaryPrimitives.WriteInt16BigEndian(buffer, v); stream.Write(buffer, 0, 2); }
        void Int32(int v) { BinaryPrimitives.WriteInt32BigEndian(buffer, v); stream.Write(buffer, 0, 4); }
        var list = topics.ToList();
        Int16(0);
        Int32(list.Count);
        foreach (var (topic, partitions) in list)
        {
            var name = Encoding.UTF8.GetBytes(topic);
            Int16((short)name.Length);
            stream.Write(name);
            Int32(partitions.Count);
            foreach (var p in partitions) Int32(p);
        }
        Int32(-1); // null user data
        return stream.ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public bool Int16(out short value)
        {
            value = 0;
            if (_position + 2 > _data.Length) return false;
            value = BinaryPrimitives.ReadInt16BigEndian(_data.Slice(_position));
            _position += 2;
            return true;
        }

        public bool Int32(out int value)
        {
            value = 0;
            if (_position + 4 > _data.Length) return false;
            value = BinaryPrimitives.ReadInt32BigEndian(_data.Slice(_position));
            _position += 4;
            return true;
        }

        public bool NullableString(out string? value)
        {
            value = null;
            if (!Int16(out short length)) return false;
            if (length < 0) return true;
            if (_position + length > _data.Length) return false;
            value = Encoding.UTF8.GetString(_data.Slice(_position, length));
            _position += length;
            return true;
        }

        public bool NullableBytes()
        {
            if (!Int32(out int length)) return false;
            if (length < 0) return true;
            if (_position + length > _data.Length) return false;
            _position += length;
            return true;
        }

        public bool StringArray(out List<string>? values)
        {
            values = null;
            if (!Int32(out int count) || count < 0 || count > _data.Length) return false;
            values = new List<string>(count);
            for (int i = 0; i < count; i++)
            {
                if (!NullableString(out var s) || s is null) return false;
                values.Add(s);
            }
            return true;
        }

        public bool TopicPartitions(out List<(string, int)>? values)
        {
            values = null;
            if (!Int32(out int count) || count < 0 || count > _data.Length) return false;
            values = new List<(string, int)>();
            for (int i = 0; i < count; i++)
            {
                if (!NullableString(out var topic) || topic is null) return false;
                if (!Int32(out int partitions) || partitions < 0 || partitions > _data.Length) return false;
                for (int j = 0; j < partitions; j++)
                {
                    if (!Int32(out int partition)) return false;
                    values.Add((topic, partition));
                }
            }
            return true;
        }
    }
}
