using System.Runtime.CompilerServices;

namespace Broker.Protocol.Records;

/// <summary>
/// Zig-zag variable-length integers as used inside v2 records (protobuf's sint32/sint64;
/// Kafka ByteUtils.readVarint/readVarlong): at most 5 bytes for an int, 10 for a long.
/// </summary>
internal static class RecordVarInt
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryReadVarInt(ReadOnlySpan<byte> buffer, ref int position, out int value)
    {
        uint raw = 0;
        int shift = 0;
        int p = position;
        while (true)
        {
            if ((uint)p >= (uint)buffer.Length || shift > 28)
            {
                value = 0;
                return false;
            }

            byte b = buffer[p++];
            raw |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                // The fifth byte may only carry the top four bits.
                if (shift == 28 && b > 0x0F)
                {
                    value = 0;
                    return false;
                }

                break;
            }

            shift += 7;
        }

        position = p;
        value = (int)(raw >> 1) ^ -(int)(raw & 1);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryReadVarLong(ReadOnlySpan<byte> buffer, ref int position, out long value)
    {
        ulong raw = 0;
        int shift = 0;
        int p = position;
        while (true)
        {
            if ((uint)p >= (uint)buffer.Length || shift > 63)
            {
                value = 0;
                return false;
            }

            byte b = buffer[p++];
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (shift == 63 && b > 0x01)
                {
                    value = 0;
                    return false;
                }

                break;
            }

            shift += 7;
        }

        position = p;
        value = (long)(raw >> 1) ^ -(long)(raw & 1);
        return true;
    }

    public static int SizeOfVarInt(int value)
    {
        uint v = (uint)((value << 1) ^ (value >> 31));
        int bytes = 1;
        while ((v & ~0x7Fu) != 0)
        {
            bytes++;
            v >>= 7;
        }

        return bytes;
    }

    public static int SizeOfVarLong(long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int bytes = 1;
        while ((v & ~0x7FUL) != 0)
        {
            bytes++;
            v >>= 7;
        }

        return bytes;
    }

    /// <summary>Writes and returns the number of bytes written.</summary>
    public static int WriteVarInt(Span<byte> destination, int value)
    {
        uint v = (uint)((value << 1) ^ (value >> 31));
        int i = 0;
        while ((v & ~0x7Fu) != 0)
        {
            destination[i++] = (byte)((v & 0x7F) | 0x80);
            v >>= 7;
        }

        destination[i++] = (byte)v;
        return i;
    }

    public static int WriteVarLong(Span<byte> destination, long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int i = 0;
        while ((v & ~0x7FUL) != 0)
        {
            destination[i++] = (byte)((v & 0x7F) | 0x80);
            v >>= 7;
        }

        destination[i++] = (byte)v;
        return i;
    }
}
