using BenchmarkDotNet.Attributes;
using Broker.Protocol.Framing;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Benchmarks;

/// <summary>
/// Wire-level hot paths: varints, request/response headers, Produce decode and Fetch encode.
/// Allocation budget: header decode allocates only the client id string; Produce decode never
/// copies records (MemoryRecords are slices of the request buffer).
/// Run: dotnet run -c Release --project perf/Benchmarks -- --filter '*WireBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class WireBenchmarks
{
    private const int VarIntCount = 1024;
    private readonly uint[] _varIntValues = new uint[VarIntCount];
    private readonly byte[] _varIntBuffer = new byte[VarIntCount * 5];
    private int _varIntBytes;

    private byte[] _requestHeaderBytes = [];
    private readonly RequestHeader _requestHeader = new();
    private readonly RequestHeader _headerToWrite = new() { RequestApiKey = 0, RequestApiVersion = 9, CorrelationId = 12345, ClientId = "producer-1" };
    private readonly byte[] _headerBuffer = new byte[64];

    private byte[] _produceBytes = [];
    private FetchResponse _fetchResponse = new();
    private byte[] _fetchBuffer = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var writer = new KafkaWriter(_varIntBuffer);
        for (int i = 0; i < VarIntCount; i++)
        {
            // Mix of 1..5 byte encodings, as lengths and counts are mostly small.
            _varIntValues[i] = (uint)random.NextInt64(0, 1L << (1 + random.Next(31)));
            writer.WriteUnsignedVarInt(_varIntValues[i]);
        }
        _varIntBytes = writer.Position;

        _requestHeaderBytes = new byte[_headerToWrite.ComputeSize(2)];
        var hw = new KafkaWriter(_requestHeaderBytes);
        _headerToWrite.Write(ref hw, 2);

        // Produce v9 (flexible): one topic, 3 partitions of 16 KiB record batches.
        var produce = new ProduceRequest { Acks = -1, TimeoutMs = 30000 };
        var topic = new ProduceRequest.TopicProduceData { Name = "benchmark-topic" };
        for (int p = 0; p < 3; p++)
        {
            var records = new byte[16 * 1024];
            random.NextBytes(records);
            topic.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = p, Records = new MemoryRecords(records) });
        }
        produce.TopicData.Add(topic);
        _produceBytes = new byte[produce.ComputeSize(9)];
        var pw = new KafkaWriter(_produceBytes);
        produce.Write(ref pw, 9);

        // Fetch v12 response: one topic, 3 partitions of 16 KiB each.
        _fetchResponse = new FetchResponse { SessionId = 1 };
        var fetchTopic = new FetchResponse.FetchableTopicResponse { Topic = "benchmark-topic" };
        for (int p = 0; p < 3; p++)
        {
            var records = new byte[16 * 1024];
            random.NextBytes(records);
            fetchTopic.Partitions.Add(new FetchResponse.PartitionData
            {
                PartitionIndex = p, HighWatermark = 1000, LastStableOffset = 1000, LogStartOffset = 0,
                Records = new MemoryRecords(records),
            });
        }
        _fetchResponse.Responses.Add(fetchTopic);
        _fetchBuffer = new byte[ResponseFraming.ComputeFrameSize(_fetchResponse, 12, 1)];
    }

    [Benchmark(OperationsPerInvoke = VarIntCount)]
    public int UnsignedVarIntEncode()
    {
        var writer = new KafkaWriter(_varIntBuffer);
        uint[] values = _varIntValues;
        for (int i = 0; i < values.Length; i++) writer.WriteUnsignedVarInt(values[i]);
        return writer.Position;
    }

    [Benchmark(OperationsPerInvoke = VarIntCount)]
    public uint UnsignedVarIntDecode()
    {
        var reader = new KafkaReader(_varIntBuffer.AsMemory(0, _varIntBytes));
        uint sum = 0;
        for (int i = 0; i < VarIntCount; i++) sum += reader.ReadUnsignedVarInt();
        return sum;
    }

    [Benchmark]
    public int RequestHeaderDecode()
    {
        var reader = new KafkaReader(_requestHeaderBytes);
        RequestHeaderCodec.TryRead(ref reader, _requestHeader, out short headerVersion);
        return _requestHeader.CorrelationId + headerVersion;
    }

    [Benchmark]
    public int RequestHeaderEncode()
    {
        var writer = new KafkaWriter(_headerBuffer);
        _headerToWrite.Write(ref writer, 2);
        return writer.Position;
    }

    [Benchmark]
    public int ResponseHeaderEncode()
    {
        var writer = new KafkaWriter(_headerBuffer);
        ResponseFraming.WriteHeader(ref writer, 12345, 1);
        return writer.Position;
    }

    [Benchmark]
    public int ProduceRequestDecode()
    {
        var request = new ProduceRequest();
        var reader = new KafkaReader(_produceBytes);
        request.Read(ref reader, 9);
        return request.TopicData[0].PartitionData.Count;
    }

    [Benchmark]
    public int FetchResponseEncode()
    {
        return ResponseFraming.WriteFrame(_fetchBuffer, 12345, 1, _fetchResponse, 12);
    }
}
