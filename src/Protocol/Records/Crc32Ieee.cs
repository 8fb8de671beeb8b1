namespace Broker.Protocol.Records;

/// <summary>
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of legacy magic 0 and 1
/// messages (Kafka Crc32 / java.util.zip.CRC32). Only old data uses it, so a simple
/// byte-at-a-time table is enough; System.IO.Hashing is not in the shared framework.
/// </summary>
public static class Crc32Ieee
{
    private static readonly uint[] Table = CreateTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint[] table = Table;
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
