using System.Text;
using Broker.Protocol.Records;

namespace Broker.Protocol.Tests.Records;

public class Crc32CTests
{
    [Theory]
    // Check value of CRC-32/ISCSI from the CRC catalogue, and RFC 3720 B.4 vectors.
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    public void KnownAsciiVectors(string text, uint expected)
    {
        byte[] data = Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, ~Crc32C.UpdatePortable(0xFFFFFFFFu, data));
    }

    [Fact]
    public void Rfc3720Vectors()
    {
        // RFC 3720 appendix B.4: 32 bytes of zeros, of 0xFF, ascending and descending.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
    }

    [Fact]
    public void HardwareMatchesPortableOnRandomDataOfManyLengths()
    {
        var random = new Random(20261124);
        byte[] data = new byte[(3 * 4096 * 2) + (3 * 336) + 77];
        random.NextBytes(data);
        // Cover every branch: lengths around the lane sizes, odd tails, unaligned starts.
        int[] lengths = [0, 1, 7, 8, 9, 31, 32, 33, 255, 1007, 1008, 1009, 1024, 12287, 12288, 12289, 24576 + 1008 + 5, data.Length - 3];
        foreach (int length in lengths)
        {
            for (int start = 0; start < 3; start++)
            {
                ReadOnlySpan<byte> slice = data.AsSpan(start, length);
                uint portable = ~Crc32C.UpdatePortable(0xFFFFFFFFu, slice);
                Assert.Equal(portable, Crc32C.Compute(slice));
                if (Crc32C.IsHardwareAccelerated)
                {
                    Assert.Equal(portable, ~Crc32C.UpdateHardware(0xFFFFFFFFu, slice));
                    Assert.Equal(portable, ~Crc32C.UpdateHardwareSingleStream(0xFFFFFFFFu, slice));
                }
            }
        }
    }

    [Fact]
    public void AppendEqualsComputeOfConcatenation()
    {
        var random = new Random(7);
        byte[] data = new byte[40000];
        random.NextBytes(data);
        foreach (int split in new[] { 0, 1, 100, 13000, 39999, 40000 })
        {
            uint first = Crc32C.Compute(data.AsSpan(0, split));
            Assert.Equal(Crc32C.Compute(data), Crc32C.Append(first, data.AsSpan(split)));
        }
    }

    [Fact]
    public void HardwareIsUsedOnThisMachineWhenTheCpuHasIt()
    {
        // The machines we deploy on have SSE4.2 (x64) or the Arm CRC extension; losing the
        // hardware path would cost an order of magnitude on every produce request.
        bool expected = System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported
            || System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported;
        Assert.Equal(expected, Crc32C.IsHardwareAccelerated);
    }
}
