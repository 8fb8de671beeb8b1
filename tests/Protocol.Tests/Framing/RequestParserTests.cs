using Broker.Protocol.Framing;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Framing;

public sealed class RequestParserTests
{
    private static byte[] Frame(RequestHeader header, IMessage? body, short headerVersion, short version, int trailing = 0)
    {
        int size = header.ComputeSize(headerVersion) + (body?.ComputeSize(version) ?? 0) + trailing;
        var bytes = new byte[size];
        var writer = new KafkaWriter(bytes);
        header.Write(ref writer, headerVersion);
        body?.Write(ref writer, version);
        return bytes;
    }

    [Fact]
    public void ParsesAFlexibleRequest()
    {
        var body = new MetadataRequest { AllowAutoTopicCreation = true };
        body.Topics!.Add(new MetadataRequest.MetadataRequestTopic { Name = "t" });
        byte[] frame = Frame(new RequestHeader { RequestApiKey = MetadataRequest.ApiKey, RequestApiVersion = 12, CorrelationId = 9, ClientId = null }, body, 2, 12);

        var header = new RequestHeader();
        Assert.Equal(RequestParseStatus.Ok, RequestParser.Parse(frame, header, out short headerVersion, out IRequest? request));
        Assert.Equal(2, headerVersion);
        Assert.Equal(9, header.CorrelationId);
        Assert.Null(header.ClientId);
        var metadata = Assert.IsType<MetadataRequest>(request);
        Assert.Equal("t", metadata.Topics![0].Name);
    }

    [Fact]
    public void ReportsUnknownKeysUnsupportedVersionsAndBadBodies()
    {
        var header = new RequestHeader();
        byte[] unknown = Frame(new RequestHeader { RequestApiKey = 999, RequestApiVersion = 0, ClientId = "c" }, null, 1, 0);
        Assert.Equal(RequestParseStatus.UnknownApiKey, RequestParser.Parse(unknown, header, out _, out _));

        byte[] tooNew = Frame(new RequestHeader { RequestApiKey = ApiVersionsRequest.ApiKey, RequestApiVersion = 99, ClientId = "c" }, null, 2, 0);
        Assert.Equal(RequestParseStatus.UnsupportedVersion, RequestParser.Parse(tooNew, header, out short hv, out _));
        Assert.Equal(2, hv);
        Assert.Equal(ApiVersionsRequest.ApiKey, header.RequestApiKey);

        byte[] truncated = Frame(new RequestHeader { RequestApiKey = ProduceRequest.ApiKey, RequestApiVersion = 9, ClientId = "c" }, new ProduceRequest(), 2, 9);
        Assert.Equal(RequestParseStatus.MalformedBody, RequestParser.Parse(truncated.AsMemory(0, truncated.Length - 1), header, out _, out _));

        byte[] trailing = Frame(new RequestHeader { RequestApiKey = ProduceRequest.ApiKey, RequestApiVersion = 9, ClientId = "c" }, new ProduceRequest(), 2, 9, trailing: 3);
        Assert.Equal(RequestParseStatus.Ok, RequestParser.Parse(trailing, header, out _, out _)); // ignored, as Kafka does

        Assert.Equal(RequestParseStatus.MalformedHeader, RequestParser.Parse(new byte[] { 0, 1, 0 }, header, out _, out _));
    }
}
