using System.Buffers;
using Broker.Protocol.Framing;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Framing;

public sealed class FramingTests
{
    /// <summary>ApiVersions v3 request as sent by kcat (librdkafka 2.0.2), captured 2026-11-24.</summary>
    private static readonly byte[] KcatApiVersions = Convert.FromHexString(
        "00000024001200030000000100077264" + "6b61666b61000b6c69627264" + "6b61666b6106322e302e3200");

    [Fact]
    public void KcatApiVersionsRequestParses()
    {
        var buffer = new ReadOnlySequence<byte>(KcatApiVersions);
        Assert.True(RequestFraming.TryReadFrame(ref buffer, 100 * 1024 * 1024, out ReadOnlySequence<byte> frame));
        Assert.True(buffer.IsEmpty);
        Assert.Equal(0x24, frame.Length);

        ReadOnlyMemory<byte> body = RequestFraming.ToContiguous(frame, ArrayPool<byte>.Shared, out byte[]? rented);
        Assert.Null(rented);
        Assert.True(RequestHeaderCodec.TryPeekApiKeyAndVersion(body.Span, out short apiKey, out short apiVersion));
        Assert.Equal(ApiVersionsRequest.ApiKey, apiKey);
        Assert.Equal(3, apiVersion);

        var reader = new KafkaReader(body);
        var header = new RequestHeader();
        Assert.True(RequestHeaderCodec.TryRead(ref reader, header, out short headerVersion));
        Assert.Equal(2, headerVersion);
        Assert.Equal(1, header.CorrelationId);
        Assert.Equal("rdkafka", header.ClientId); // classic string even in header v2

        var request = new ApiVersionsRequest();
        request.Read(ref reader, apiVersion);
        Assert.False(reader.Failed);
        Assert.Equal(0, reader.Remaining);
        Assert.Equal("librdkafka", request.ClientSoftwareName);
        Assert.Equal("2.0.2", request.ClientSoftwareVersion);
    }

    [Fact]
    public void PartialFramesConsumeNothing()
    {
        for (int cut = 0; cut < KcatApiVersions.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(KcatApiVersions, 0, cut);
            Assert.False(RequestFraming.TryReadFrame(ref buffer, 1024, out _));
            Assert.Equal(cut, buffer.Length);
        }
    }

    [Fact]
    public void FramesSplitAcrossSegmentsAreFoundAndCopiedOnce()
    {
        // Two frames back to back, split into 1-byte segments.
        byte[] twice = [.. KcatApiVersions, .. KcatApiVersions];
        ReadOnlySequence<byte> buffer = Segments.Split(twice, 1);
        int frames = 0;
        while (RequestFraming.TryReadFrame(ref buffer, 1024, out ReadOnlySequence<byte> frame))
        {
            frames++;
            ReadOnlyMemory<byte> body = RequestFraming.ToContiguous(frame, ArrayPool<byte>.Shared, out byte[]? rented);
            Assert.NotNull(rented);
            Assert.True(body.Span.SequenceEqual(KcatApiVersions.AsSpan(4)));
            ArrayPool<byte>.Shared.Return(rented);
        }
        Assert.Equal(2, frames);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void OversizedFrameIsRejectedFromItsSizePrefixAlone()
    {
        // Only the 4-byte size has arrived: the limit is enforced before buffering the body.
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x10, 0x00, 0x01 });
        var error = Assert.Throws<InvalidFrameException>(() => RequestFraming.TryReadFrame(ref buffer, 1024 * 1024, out _));
        Assert.Equal(0x100001, error.Size);

        var negative = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF });
        Assert.Throws<InvalidFrameException>(() => RequestFraming.TryReadFrame(ref negative, 1024, out _));
    }

    [Fact]
    public void HeaderVersionsFollowKafka()
    {
        Assert.Equal(2, RequestHeaderCodec.HeaderVersion(ApiVersionsRequest.ApiKey, 3));
        Assert.Equal(2, RequestHeaderCodec.HeaderVersion(ApiVersionsRequest.ApiKey, 99)); // newer client: still parseable
        Assert.Equal(1, RequestHeaderCodec.HeaderVersion(ApiVersionsRequest.ApiKey, 2));
        Assert.Equal(1, RequestHeaderCodec.HeaderVersion(ProduceRequest.ApiKey, 8));
        Assert.Equal(2, RequestHeaderCodec.HeaderVersion(ProduceRequest.ApiKey, 9));
        Assert.Equal(0, RequestHeaderCodec.HeaderVersion(ControlledShutdownRequest.ApiKey, 0));
        Assert.Equal(1, RequestHeaderCodec.HeaderVersion(9999, 0));
    }

    [Fact]
    public void ResponseFrameHasSizeHeaderAndBody()
    {
        var response = new ApiVersionsResponse { ErrorCode = 35 };
        short version = 3;
        short headerVersion = ApiMessages.ResponseHeaderVersion(ApiVersionsRequest.ApiKey, version);
        Assert.Equal(0, headerVersion);
        int size = ResponseFraming.ComputeFrameSize(response, version, headerVersion);
        var buffer = new byte[size];
        Assert.Equal(size, ResponseFraming.WriteFrame(buffer, 77, headerVersion, response, version));

        var reader = new KafkaReader(buffer);
        Assert.Equal(size - 4, reader.ReadInt32());
        Assert.Equal(77, reader.ReadInt32());
        var decoded = new ApiVersionsResponse();
        decoded.Read(ref reader, version);
        Assert.False(reader.Failed);
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(35, decoded.ErrorCode);

        // Header v1 adds an empty tagged-field section.
        var heartbeat = new HeartbeatResponse();
        int flexibleSize = ResponseFraming.ComputeFrameSize(heartbeat, 4, 1);
        var flexible = new byte[flexibleSize];
        ResponseFraming.WriteFrame(flexible, 5, 1, heartbeat, 4);
        Assert.Equal(new byte[] { 0, 0, 0, 5, 0 }, flexible.AsSpan(4, 5).ToArray());
    }
}

internal static class Segments
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>A sequence made of segments of <paramref name="size"/> bytes, as a pipe may deliver.</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, int size)
    {
        var first = new Segment(data.AsMemory(0, Math.Min(size, data.Length)), 0);
        Segment last = first;
        for (int i = size; i < data.Length; i += size)
            last = last.Append(data.AsMemory(i, Math.Min(size, data.Length - i)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
