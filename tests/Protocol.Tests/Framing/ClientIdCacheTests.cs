using System.Text;
using Broker.Protocol.Framing;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Framing;

/// <summary>
/// Header decoding with a connection's <see cref="ClientIdCache"/>: the same fields as the
/// generated RequestHeader.Read, and no allocation once the client id has been seen.
/// </summary>
public sealed class ClientIdCacheTests
{
    private static byte[] EncodeHeader(RequestHeader header)
    {
        short version = RequestHeaderCodec.HeaderVersion(header.RequestApiKey, header.RequestApiVersion);
        var bytes = new byte[header.ComputeSize(version)];
        var writer = new KafkaWriter(bytes);
        header.Write(ref writer, version);
        return bytes;
    }

    private static RequestHeader Decode(byte[] bytes, ClientIdCache? cache, out bool ok, out int position)
    {
        var reader = new KafkaReader(bytes);
        var header = new RequestHeader();
        ok = RequestHeaderCodec.TryRead(ref reader, header, cache, out _);
        Assert.Equal(!ok, reader.Failed);
        position = reader.Position;
        return header;
    }

    [Fact]
    public void Steady_state_header_decode_allocates_nothing()
    {
        // Produce v9 uses header v2 (tagged fields), Produce v8 header v1.
        byte[] v2 = EncodeHeader(new RequestHeader { RequestApiKey = 0, RequestApiVersion = 9, CorrelationId = 1, ClientId = "producer-1" });
        byte[] v1 = EncodeHeader(new RequestHeader { RequestApiKey = 0, RequestApiVersion = 8, CorrelationId = 2, ClientId = "producer-1" });
        var cache = new ClientIdCache();
        var header = new RequestHeader();

        var reader = new KafkaReader(v2);
        Assert.True(RequestHeaderCodec.TryRead(ref reader, header, cache, out _)); // first sight: decodes the string
        string first = header.ClientId!;

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            var r2 = new KafkaReader(v2);
            RequestHeaderCodec.TryRead(ref r2, header, cache, out _);
            var r1 = new KafkaReader(v1);
            RequestHeaderCodec.TryRead(ref r1, header, cache, out _);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Same(first, header.ClientId);
        Assert.Equal(2, header.CorrelationId);
    }

    [Fact]
    public void Without_a_cache_each_decode_allocates_the_client_id()
    {
        byte[] bytes = EncodeHeader(new RequestHeader { RequestApiKey = 0, RequestApiVersion = 9, CorrelationId = 1, ClientId = "producer-1" });
        var a = Decode(bytes, cache: null, out _, out _);
        var b = Decode(bytes, cache: null, out _, out _);
        Assert.Equal(a.ClientId, b.ClientId);
        Assert.NotSame(a.ClientId, b.ClientId);
    }

    [Fact]
    public void A_changed_client_id_is_decoded_and_then_cached()
    {
        var cache = new ClientIdCache();
        byte[] one = EncodeHeader(new RequestHeader { RequestApiKey = 3, RequestApiVersion = 12, ClientId = "client-a" });
        byte[] two = EncodeHeader(new RequestHeader { RequestApiKey = 3, RequestApiVersion = 12, ClientId = "client-b" });

        string a = Decode(one, cache, out _, out _).ClientId!;
        string b = Decode(two, cache, out _, out _).ClientId!;
        Assert.Equal("client-a", a);
        Assert.Equal("client-b", b);
        Assert.Same(b, Decode(two, cache, out _, out _).ClientId);
        Assert.NotSame(a, Decode(one, cache, out _, out _).ClientId); // only the last id is kept
    }

    [Fact]
    public void Ids_longer_than_the_cache_limit_are_decoded_but_not_kept()
    {
        var cache = new ClientIdCache();
        string longId = new('x', ClientIdCache.MaxCachedBytes + 1);
        byte[] bytes = EncodeHeader(new RequestHeader { RequestApiKey = 18, RequestApiVersion = 3, ClientId = longId });
        string first = Decode(bytes, cache, out _, out _).ClientId!;
        string second = Decode(bytes, cache, out _, out _).ClientId!;
        Assert.Equal(longId, second);
        Assert.NotSame(first, second);
    }

    public static TheoryData<string> Headers() => new()
    {
        // header v2 with an unknown tagged field (tag 7, 2 bytes) and a multi-byte UTF-8 id
        "0012000300000005000a636c69656e742d69c3a90107020102",
        // header v1, null client id
        "000000080000002affff",
        // header v1, empty client id
        "000000080000002a0000",
        // ControlledShutdown v0: header v0, no client id
        "000700000000002a",
        // invalid UTF-8 decodes to U+FFFD either way
        "000000080000002a0002c328",
        // client id length -2 is invalid
        "000000080000002afffe",
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void Cached_decode_matches_the_generated_reader_on_every_prefix(string hex)
    {
        byte[] full = Convert.FromHexString(hex);
        for (int length = 0; length <= full.Length; length++)
        {
            byte[] bytes = full[..length];
            var expected = Decode(bytes, cache: null, out bool expectedOk, out int expectedPosition);
            var cache = new ClientIdCache();
            for (int pass = 0; pass < 2; pass++) // cold, then with the id cached
            {
                var actual = Decode(bytes, cache, out bool ok, out int position);
                Assert.Equal(expectedOk, ok);
                Assert.Equal(expectedPosition, position);
                Assert.Equal(expected.RequestApiKey, actual.RequestApiKey);
                Assert.Equal(expected.RequestApiVersion, actual.RequestApiVersion);
                Assert.Equal(expected.CorrelationId, actual.CorrelationId);
                Assert.Equal(expected.ClientId, actual.ClientId);
                Assert.Equal(expected.UnknownTaggedFields?.Count, actual.UnknownTaggedFields?.Count);
                for (int i = 0; i < (expected.UnknownTaggedFields?.Count ?? 0); i++)
                {
                    Assert.Equal(expected.UnknownTaggedFields![i].Tag, actual.UnknownTaggedFields![i].Tag);
                    Assert.Equal(expected.UnknownTaggedFields[i].Data, actual.UnknownTaggedFields[i].Data);
                }
            }
        }
    }

    [Fact]
    public void Multi_byte_ids_compare_by_bytes()
    {
        var cache = new ClientIdCache();
        byte[] utf8 = Encoding.UTF8.GetBytes("clíent-é");
        string first = cache.Get(utf8);
        Assert.Equal("clíent-é", first);
        Assert.Same(first, cache.Get(utf8.AsSpan().ToArray()));
        Assert.Same(string.Empty, cache.Get([]));
    }

    [Fact]
    public void Parser_passes_the_cache_through()
    {
        var cache = new ClientIdCache();
        var request = new MetadataRequest { Topics = null };
        var header = new RequestHeader { RequestApiKey = MetadataRequest.ApiKey, RequestApiVersion = 12, CorrelationId = 9, ClientId = "rdkafka" };
        short headerVersion = RequestHeaderCodec.HeaderVersion(header.RequestApiKey, header.RequestApiVersion);
        var frame = new byte[header.ComputeSize(headerVersion) + request.ComputeSize(12)];
        var writer = new KafkaWriter(frame);
        header.Write(ref writer, headerVersion);
        request.Write(ref writer, 12);

        var first = new RequestHeader();
        Assert.Equal(RequestParseStatus.Ok, RequestParser.Parse(frame, first, cache, out _, out _));
        var second = new RequestHeader();
        Assert.Equal(RequestParseStatus.Ok, RequestParser.Parse(frame, second, cache, out _, out IRequest? parsed));
        Assert.IsType<MetadataRequest>(parsed);
        Assert.Equal("rdkafka", second.ClientId);
        Assert.Same(first.ClientId, second.ClientId);
    }
}
