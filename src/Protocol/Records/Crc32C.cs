using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;
using X86Sse42 = System.Runtime.Intrinsics.X86.Sse42;

namespace Broker.Protocol.Records;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF): the
/// checksum of a magic v2 record batch, computed over everything from the attributes field to
/// the end of the batch (Kafka <c>DefaultRecordBatch.computeChecksum</c>, KIP-98).
///
/// System.IO.Hashing is not part of the shared framework (and has no Crc32C before .NET 10's
/// package), so this is our own. On x86-64 with SSE4.2 and on Arm64 with the CRC extension the
/// hardware instruction is used 8 bytes at a time. The instruction has a latency of about three
/// cycles but a throughput of one per cycle, so large inputs are cut into three equal lanes that
/// are checksummed in one interleaved loop and then combined; shifting a lane's CRC past the
/// following lane's bytes is a linear map on 32 bits, precomputed into byte tables for each lane
/// length. Without hardware support a slicing-by-8 table implementation is used.
/// </summary>
public static class Crc32C
{
    /// <summary>Reflected Castagnoli polynomial.</summary>
    internal const uint Polynomial = 0x82F63B78u;

    // Lane lengths (bytes) of the interleaved hardware loop. The long lane amortises the two
    // table shifts per round over 12 KiB; the short lane (3 x 336 = 1008) keeps a 1 KiB batch
    // almost entirely interleaved, leaving 16 bytes for the single stream.
    private const int LongLaneBytes = 4096;
    private const int ShortLaneBytes = 336;

    private static readonly uint[] PortableTable = CreatePortableTable();
    private static readonly uint[] LongLaneShift = CreateShiftTable(LongLaneBytes);
    private static readonly uint[] ShortLaneShift = CreateShiftTable(ShortLaneBytes);

    /// <summary>True when a CRC32C instruction is used (SSE4.2 on x64, CRC on Arm64).</summary>
    public static bool IsHardwareAccelerated => X86Sse42.X64.IsSupported || ArmCrc32.Arm64.IsSupported;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~UpdateRaw(0xFFFFFFFFu, data);

    /// <summary>
    /// Continues a CRC: <c>Append(Compute(a), b) == Compute(a ++ b)</c>; <c>Append(0, x) == Compute(x)</c>.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~UpdateRaw(~crc, data);

    /// <summary>Raw register update (no pre/post inversion) with the fastest available path.</summary>
    internal static uint UpdateRaw(uint state, ReadOnlySpan<byte> data)
    {
        if (IsHardwareAccelerated)
        {
            return UpdateHardware(state, data);
        }

        return UpdatePortable(state, data);
    }

    /// <summary>Slicing-by-8 over the table; exposed so tests can compare it with the hardware path.</summary>
    internal static uint UpdatePortable(uint state, ReadOnlySpan<byte> data)
    {
        uint[] table = PortableTable;
        ref uint t = ref MemoryMarshal.GetArrayDataReference(table);
        int i = 0;
        int length = data.Length;
        while (length - i >= 8)
        {
            uint low = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i)) ^ state;
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i + 4));
            state = Unsafe.Add(ref t, (7 * 256) + (int)(low & 0xFF))
                ^ Unsafe.Add(ref t, (6 * 256) + (int)((low >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (int)((low >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (4 * 256) + (int)(low >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (int)(high & 0xFF))
                ^ Unsafe.Add(ref t, (2 * 256) + (int)((high >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (int)((high >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (int)(high >> 24));
            i += 8;
        }

        for (; i < length; i++)
        {
            state = Unsafe.Add(ref t, (int)((state ^ data[i]) & 0xFF)) ^ (state >> 8);
        }

        return state;
    }

    /// <summary>Hardware path: interleaved lanes for long inputs, then a single stream.</summary>
    internal static uint UpdateHardware(uint state, ReadOnlySpan<byte> data)
    {
        Debug.Assert(IsHardwareAccelerated);
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint remaining = (nuint)data.Length;

        while (remaining >= 3 * LongLaneBytes)
        {
            state = ThreeLanes(state, ref p, LongLaneBytes, LongLaneShift);
            p = ref Unsafe.Add(ref p, 3 * LongLaneBytes);
            remaining -= 3 * LongLaneBytes;
        }

        while (remaining >= 3 * ShortLaneBytes)
        {
            state = ThreeLanes(state, ref p, ShortLaneBytes, ShortLaneShift);
            p = ref Unsafe.Add(ref p, 3 * ShortLaneBytes);
            remaining -= 3 * ShortLaneBytes;
        }

        return SingleStream(state, ref p, remaining);
    }

    /// <summary>Hardware single stream only (used to build the shift tables and by tests).</summary>
    internal static uint UpdateHardwareSingleStream(uint state, ReadOnlySpan<byte> data)
    {
        Debug.Assert(IsHardwareAccelerated);
        return SingleStream(state, ref MemoryMarshal.GetReference(data), (nuint)data.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint crc, ulong value)
    {
        if (X86Sse42.X64.IsSupported)
        {
            return (uint)X86Sse42.X64.Crc32(crc, value);
        }

        return ArmCrc32.Arm64.ComputeCrc32C(crc, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint crc, byte value)
    {
        if (X86Sse42.IsSupported)
        {
            return X86Sse42.Crc32(crc, value);
        }

        return ArmCrc32.ComputeCrc32C(crc, value);
    }

    private static uint SingleStream(uint state, ref byte p, nuint length)
    {
        nuint i = 0;
        while (length - i >= 32)
        {
            state = Step(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            state = Step(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8)));
            state = Step(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 16)));
            state = Step(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 24)));
            i += 32;
        }

        while (length - i >= 8)
        {
            state = Step(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            i += 8;
        }

        while (i < length)
        {
            state = Step(state, Unsafe.Add(ref p, i));
            i++;
        }

        return state;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ThreeLanes(uint state, ref byte p, int laneBytes, uint[] shiftTable)
    {
        // Lane a continues the running CRC; lanes b and c start from zero. By linearity of the
        // raw register, crc(s, A B C) = shift(shift(crc(s, A)) ^ crc(0, B)) ^ crc(0, C), where
        // shift feeds laneBytes zero bytes.
        uint a = state;
        uint b = 0;
        uint c = 0;
        ref byte pb = ref Unsafe.Add(ref p, laneBytes);
        ref byte pc = ref Unsafe.Add(ref p, 2 * laneBytes);
        for (nuint i = 0; i < (nuint)laneBytes; i += 8)
        {
            a = Step(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            b = Step(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref pb, i)));
            c = Step(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref pc, i)));
        }

        return Shift(shiftTable, Shift(shiftTable, a) ^ b) ^ c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Shift(uint[] table, uint crc)
    {
        ref uint t = ref MemoryMarshal.GetArrayDataReference(table);
        return Unsafe.Add(ref t, (int)(crc & 0xFF))
            ^ Unsafe.Add(ref t, 256 + (int)((crc >> 8) & 0xFF))
            ^ Unsafe.Add(ref t, 512 + (int)((crc >> 16) & 0xFF))
            ^ Unsafe.Add(ref t, 768 + (int)(crc >> 24));
    }

    private static uint[] CreatePortableTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[n] = c;
        }

        // table[k*256 + n] is the CRC of byte n followed by k zero bytes.
        for (int k = 1; k < 8; k++)
        {
            for (int n = 0; n < 256; n++)
            {
                uint previous = table[((k - 1) * 256) + n];
                table[(k * 256) + n] = (previous >> 8) ^ table[previous & 0xFF];
            }
        }

        return table;
    }

    /// <summary>
    /// Tables for the linear map "feed <paramref name="laneBytes"/> zero bytes into the raw
    /// register": entry [k*256 + v] is the image of byte value v in byte position k.
    /// </summary>
    private static uint[] CreateShiftTable(int laneBytes)
    {
        Span<uint> basis = stackalloc uint[32];
        byte[] zeros = new byte[laneBytes];
        for (int bit = 0; bit < 32; bit++)
        {
            basis[bit] = UpdatePortable(1u << bit, zeros);
        }

        var table = new uint[4 * 256];
        for (int k = 0; k < 4; k++)
        {
            for (int v = 1; v < 256; v++)
            {
                int lowest = BitOperations.TrailingZeroCount(v);
                table[(k * 256) + v] = table[(k * 256) + (v & (v - 1))] ^ basis[(8 * k) + lowest];
            }
        }

        return table;
    }
}
