using Broker.Protocol.Generator;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Messages;

/// <summary>Every generated message written and read back at every valid version.</summary>
public sealed class RoundTripTests
{
    private static readonly Lazy<IReadOnlyList<MessageSpec>> Specs = new(() => MessageGenerator.LoadSpecs(SpecPaths.SpecsRoot));

    internal static IReadOnlyList<MessageSpec> AllSpecs => Specs.Value;

    public static IEnumerable<object[]> SpecNames()
    {
        foreach (MessageSpec spec in Specs.Value) yield return new object[] { spec.Name };
    }

    private static MessageSpec Find(string name)
    {
        foreach (MessageSpec spec in Specs.Value)
            if (spec.Name == name) return spec;
        throw new InvalidOperationException(name);
    }

    internal static byte[] Encode(IMessage message, short version)
    {
        int size = message.ComputeSize(version);
        var buffer = new byte[size];
        var writer = new KafkaWriter(buffer);
        message.Write(ref writer, version);
        Assert.Equal(size, writer.Position);
        return buffer;
    }

    [Theory]
    [MemberData(nameof(SpecNames))]
    public void RoundTripsAtEveryVersion(string name)
    {
        MessageSpec spec = Find(name);
        int totalLeaves = 0;
        for (short version = spec.ValidVersions.Lowest; version <= spec.ValidVersions.Highest; version++)
        {
            for (int seed = 0; seed < 3; seed++)
            {
                var filler = new MessageFiller(spec, new Random(version * 31 + seed));
                IMessage original = filler.Create(version);
                byte[] bytes = Encode(original, version);

                var decoded = (IMessage)Activator.CreateInstance(original.GetType())!;
                var reader = new KafkaReader(bytes);
                decoded.Read(ref reader, version);
                Assert.False(reader.Failed, $"{name} v{version} seed {seed}: read failed at {reader.Position}/{bytes.Length}");
                Assert.Equal(bytes.Length, reader.Position);

                int leaves = 0;
                string? diff = DeepCompare.Diff(spec, spec.Root, original, decoded, version, name, ref leaves);
                Assert.True(diff is null, $"v{version} seed {seed}: {diff}");
                totalLeaves += leaves;

                byte[] again = Encode(decoded, version);
                Assert.True(bytes.AsSpan().SequenceEqual(again), $"{name} v{version} seed {seed}: re-encoding differs");
            }
        }
        // The filler must really have populated something (empty specs like some requests excepted).
        if (spec.Root.Fields.Count > 0) Assert.True(totalLeaves > 0, name + ": no values compared");
    }

    [Theory]
    [MemberData(nameof(SpecNames))]
    public void UnknownTaggedFieldsSurviveARoundTrip(string name)
    {
        MessageSpec spec = Find(name);
        if (spec.FlexibleVersions.IsEmpty) return;
        var tagged = new[] { new RawTaggedField(7777, new byte[] { 1, 2, 3 }), new RawTaggedField(9999, Array.Empty<byte>()) };
        for (short version = Math.Max(spec.ValidVersions.Lowest, spec.FlexibleVersions.Lowest); version <= spec.ValidVersions.Highest; version++)
        {
            IMessage original = new MessageFiller(spec, new Random(version)).Create(version);
            original.GetType().GetProperty("UnknownTaggedFields")!.SetValue(original, new List<RawTaggedField>(tagged));
            byte[] bytes = Encode(original, version);

            var decoded = (IMessage)Activator.CreateInstance(original.GetType())!;
            var reader = new KafkaReader(bytes);
            decoded.Read(ref reader, version);
            Assert.False(reader.Failed);
            var unknown = (List<RawTaggedField>?)decoded.GetType().GetProperty("UnknownTaggedFields")!.GetValue(decoded);
            Assert.NotNull(unknown);
            Assert.Equal(2, unknown.Count);
            Assert.Equal(7777, unknown[0].Tag);
            Assert.Equal(new byte[] { 1, 2, 3 }, unknown[0].Data);
            Assert.Equal(9999, unknown[1].Tag);
            Assert.Empty(unknown[1].Data);
            Assert.True(bytes.AsSpan().SequenceEqual(Encode(decoded, version)));
        }
    }

    [Fact]
    public void NonDefaultValueInAMissingVersionThrowsUnlessIgnorable()
    {
        // SessionId exists from v7 and is not ignorable; ThrottleTimeMs (v1+) is ignorable.
        var response = new FetchResponse { SessionId = 5 };
        Assert.Throws<UnsupportedVersionException>(() => Encode(response, 6));
        var ignorable = new FetchResponse { ThrottleTimeMs = 100 };
        byte[] v0 = Encode(ignorable, 0);
        Assert.Equal(4, v0.Length); // only the empty Responses array
    }

    [Fact]
    public void VersionsOutsideTheSpecAreRejected()
    {
        Assert.Throws<UnsupportedVersionException>(() => Encode(new ProduceRequest(), (short)(ProduceRequest.HighestSupportedVersion + 1)));
    }

    [Fact]
    public void ApiMessagesCoversEveryRequestSpec()
    {
        int requests = 0;
        foreach (MessageSpec spec in Specs.Value)
        {
            if (spec.Kind != "request") continue;
            requests++;
            ApiInfo? info = ApiMessages.Get(spec.ApiKey!.Value);
            Assert.NotNull(info);
            Assert.Equal(spec.ValidVersions.Lowest, info.LowestSupportedVersion);
            Assert.Equal(spec.ValidVersions.Highest, info.HighestSupportedVersion);
            Assert.Equal(spec.LowestFlexibleVersion, info.LowestFlexibleVersion);
            Assert.Equal(spec.Name, info.CreateRequest().GetType().Name);
        }
        Assert.True(requests > 80);
        Assert.Equal("Produce", ApiMessages.Get(0)!.Name);
        Assert.Null(ApiMessages.Get(-1));
        // Header versions: ApiVersions v3 is flexible but its response header stays v0 (KIP-511).
        Assert.Equal(2, ApiMessages.RequestHeaderVersion(ApiVersionsRequest.ApiKey, 3));
        Assert.Equal(0, ApiMessages.ResponseHeaderVersion(ApiVersionsRequest.ApiKey, 3));
        Assert.Equal(1, ApiMessages.RequestHeaderVersion(FetchRequest.ApiKey, 11));
        Assert.Equal(1, ApiMessages.ResponseHeaderVersion(FetchRequest.ApiKey, 12));
        Assert.Equal(0, ApiMessages.ResponseHeaderVersion(FetchRequest.ApiKey, 11));
    }
}
