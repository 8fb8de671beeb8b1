using System.Runtime.CompilerServices;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Golden;

/// <summary>
/// One request frame captured from a real client by tools/CaptureProxy: the bytes after the
/// 4-byte size prefix (request header + body), in a file named
/// <c>&lt;seq&gt;-&lt;apiKey&gt;-v&lt;version&gt;-&lt;client&gt;.bin</c> under Golden/&lt;client dir&gt;/.
/// </summary>
public sealed class GoldenVector
{
    private GoldenVector(string client, string fileName, byte[] bytes, short apiKey, short apiVersion)
    {
        Client = client;
        FileName = fileName;
        Bytes = bytes;
        ApiKey = apiKey;
        ApiVersion = apiVersion;
    }

    /// <summary>The directory under Golden/, one per client library.</summary>
    public string Client { get; }

    public string FileName { get; }

    public byte[] Bytes { get; }

    /// <summary>Api key and version as written in the file name (the proxy read them from the header).</summary>
    public short ApiKey { get; }

    public short ApiVersion { get; }

    public string Id => Client + "/" + FileName;

    public override string ToString() => Id;

    /// <summary>
    /// Vectors whose client wrote bytes after the last field of the body, and how many. Kafka's
    /// request parser ignores trailing bytes (and so does ours: the broker answered these), so
    /// they are pinned here instead of failing the decode.
    /// </summary>
    private static readonly Dictionary<string, int> KnownTrailingBytes = new(StringComparer.Ordinal)
    {
        // librdkafka 2.16 AdminClient.GetMetadata (all topics) at Metadata v12 ends with 01 00 00,
        // which no v12 field accounts for.
        ["confluent/00005-3-v12-golden_confluent.bin"] = 3,
    };

    /// <summary>Bytes after the body this vector is known to carry (normally 0).</summary>
    public int TrailingBytes => KnownTrailingBytes.GetValueOrDefault(Id);

    /// <summary>Golden/ in the source tree: vectors are read in place, not copied to bin/.</summary>
    public static string Root { get; } = SourceDirectory();

    public static IEnumerable<string> Clients() =>
        Directory.GetDirectories(Root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>Request vectors of one client (response frames, *.response.bin, are not golden: they came from our broker).</summary>
    public static IReadOnlyList<GoldenVector> Load(string client)
    {
        var vectors = new List<GoldenVector>();
        foreach (var path in Directory.GetFiles(Path.Combine(Root, client), "*.bin").Order(StringComparer.Ordinal))
        {
            var fileName = Path.GetFileName(path);
            if (fileName.EndsWith(".response.bin", StringComparison.Ordinal)) continue;
            var parts = fileName.Split('-');
            if (parts.Length < 4 || !short.TryParse(parts[1], out var apiKey) || parts[2].Length < 2 || parts[2][0] != 'v'
                || !short.TryParse(parts[2].AsSpan(1), out var apiVersion))
                throw new InvalidDataException($"golden vector {client}/{fileName} is not named <seq>-<apiKey>-v<version>-<client>.bin");
            vectors.Add(new GoldenVector(client, fileName, File.ReadAllBytes(path), apiKey, apiVersion));
        }
        return vectors;
    }

    public static GoldenVector LoadOne(string id)
    {
        var slash = id.IndexOf('/');
        return Load(id[..slash]).Single(v => v.FileName == id[(slash + 1)..]);
    }

    /// <summary>
    /// Decodes header and body with the generated messages. Fails the test on any short read
    /// or trailing bytes: a golden frame must be consumed exactly.
    /// </summary>
    public (RequestHeader Header, IRequest Body) Decode()
    {
        var info = ApiMessages.Get(ApiKey);
        Assert.True(info is not null, $"{Id}: api key {ApiKey} is not in ApiMessages");
        Assert.True(info.IsSupported(ApiVersion), $"{Id}: {info.Name} v{ApiVersion} is outside the spec's range {info.LowestSupportedVersion}-{info.HighestSupportedVersion}");

        var reader = new KafkaReader(Bytes);
        var header = new RequestHeader();
        header.Read(ref reader, info.RequestHeaderVersion(ApiVersion));
        Assert.False(reader.Failed, $"{Id}: request header does not decode");
        var body = info.CreateRequest();
        body.Read(ref reader, ApiVersion);
        Assert.False(reader.Failed, $"{Id}: {info.Name} v{ApiVersion} body does not decode (failed at or before byte {reader.Position} of {Bytes.Length})");
        Assert.True(reader.Remaining == TrailingBytes, $"{Id}: {reader.Remaining} bytes left after the {info.Name} v{ApiVersion} body, expected {TrailingBytes}");
        return (header, body);
    }

    /// <summary>Writes header and body back with the generated code (exactly ComputeSize bytes).</summary>
    public byte[] Encode(RequestHeader header, IRequest body)
    {
        var headerVersion = ApiMessages.RequestHeaderVersion(ApiKey, ApiVersion);
        var headerSize = header.ComputeSize(headerVersion);
        var size = headerSize + body.ComputeSize(ApiVersion);
        var buffer = new byte[size];
        var writer = new KafkaWriter(buffer);
        header.Write(ref writer, headerVersion);
        Assert.Equal(headerSize, writer.Position);
        body.Write(ref writer, ApiVersion);
        Assert.Equal(size, writer.Position);
        return buffer;
    }

    private static string SourceDirectory([CallerFilePath] string thisFile = "") =>
        Path.GetDirectoryName(thisFile) ?? throw new InvalidOperationException("no caller file path");
}
