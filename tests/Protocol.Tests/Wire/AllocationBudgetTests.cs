using Broker.Protocol.Framing;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Wire;

/// <summary>
/// Allocation budgets of the hot paths (Garnet-style): header parsing allocates only the client
/// id string, and Produce decoding does not grow with the record bytes (records are slices).
/// </summary>
public sealed class AllocationBudgetTests
{
    private static byte[] Encode(IMessage message, short version)
    {
        var bytes = new byte[message.ComputeSize(version)];
        var writer = new KafkaWriter(bytes);
        message.Write(ref writer, version);
        return bytes;
    }

    private static long Measure(Action action)
    {
        action(); // warm up: JIT and static initialisation allocate once
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void RequestHeaderDecodeAllocatesOnlyTheClientId()
    {
        byte[] bytes = Encode(new RequestHeader { RequestApiKey = 0, RequestApiVersion = 9, CorrelationId = 1, ClientId = "producer-1" }, 2);
        var header = new RequestHeader();
        long allocated = Measure(() =>
        {
            var reader = new KafkaReader(bytes);
            Assert.True(RequestHeaderCodec.TryRead(ref reader, header, out _));
        });
        // A 10-char string is 42 bytes rounded to 48 on x64.
        Assert.InRange(allocated, 1, 64);
    }

    [Fact]
    public void ResponseWritingAllocatesNothing()
    {
        var response = new ProduceResponse();
        response.Responses.Add(new ProduceResponse.TopicProduceResponse { Name = "t" });
        response.Responses[0].PartitionResponses.Add(new ProduceResponse.PartitionProduceResponse { Index = 0, BaseOffset = 42 });
        var buffer = new byte[ResponseFraming.ComputeFrameSize(response, 9, 1)];
        long allocated = Measure(() => ResponseFraming.WriteFrame(buffer, 7, 1, response, 9));
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void ProduceDecodeDoesNotCopyRecords()
    {
        long small = ProduceDecodeAllocation(recordBytes: 100);
        long large = ProduceDecodeAllocation(recordBytes: 1024 * 1024);
        Assert.Equal(small, large);
        Assert.True(small < 2048, $"{small} bytes for a one-partition produce request");
    }

    private static long ProduceDecodeAllocation(int recordBytes)
    {
        var request = new ProduceRequest { Acks = -1, TimeoutMs = 1000 };
        request.TopicData.Add(new ProduceRequest.TopicProduceData { Name = "topic" });
        request.TopicData[0].PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = 0, Records = new MemoryRecords(new byte[recordBytes]) });
        byte[] bytes = Encode(request, 9);
        return Measure(() =>
        {
            var decoded = new ProduceRequest();
            var reader = new KafkaReader(bytes);
            decoded.Read(ref reader, 9);
            Assert.False(reader.Failed);
        });
    }
}
