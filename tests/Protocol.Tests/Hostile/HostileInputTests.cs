using System.Buffers;
using Broker.Protocol.Framing;
using Broker.Protocol.Generator;
using Broker.Protocol.Messages;
using Broker.Protocol.Tests.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Hostile;

/// <summary>
/// Random and mutated frames fed to every message's Read: the only acceptable outcomes are a
/// successful read or the reader's sticky failure; never an exception, a hang or an allocation
/// out of proportion to the input (a lying length must not allocate before it is checked).
/// Deterministic by default; set HOSTILE_SEED to explore, the seed is in every failure message.
/// </summary>
public sealed class HostileInputTests
{
    private const int Frames = 120_000;
    private const long MaxAllocatedBytesPerFrame = 1024 * 1024;

    private sealed record Sample(MessageSpec Spec, Type Type, short Version, byte[] Bytes);

    private static int Seed =>
        int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_SEED"), out int seed) ? seed : 20261124;

    private static List<Sample> BuildCorpus(Random random)
    {
        var corpus = new List<Sample>();
        foreach (MessageSpec spec in RoundTripTests.AllSpecs)
        {
            Type type = MessageFiller.MessageType(spec);
            VersionRange valid = spec.ValidVersions;
            var versions = new SortedSet<short> { valid.Lowest, valid.Highest, (short)random.Next(valid.Lowest, valid.Highest + 1) };
            if (!spec.FlexibleVersions.IsEmpty && valid.Contains(spec.FlexibleVersions.Lowest)) versions.Add(spec.FlexibleVersions.Lowest);
            foreach (short version in versions)
            {
                IMessage message = new MessageFiller(spec, random).Create(version);
                corpus.Add(new Sample(spec, type, version, RoundTripTests.Encode(message, version)));
            }
        }
        return corpus;
    }

    private static byte[] Mutate(byte[] input, Random random)
    {
        var bytes = new List<byte>(input);
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            int at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0: // flip a byte
                    if (bytes.Count > 0) bytes[at] = (byte)random.Next(256);
                    break;
                case 1: // truncate
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2: // lie in an int32 length or count
                {
                    int[] lies = [int.MaxValue, -2, 0x00FFFFFF, 65536, 1 << 30];
                    byte[] lie = BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(lies[random.Next(lies.Length)]));
                    for (int i = 0; i < 4 && at + i < bytes.Count; i++) bytes[at + i] = lie[i];
                    break;
                }
                case 3: // lie in an int16 string length
                    if (at + 1 < bytes.Count)
                    {
                        bytes[at] = 0x7F;
                        bytes[at + 1] = 0xFF;
                    }
                    break;
                case 4: // a huge or overlong unsigned varint
                {
                    byte[][] varints = [[0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80], [0xFE, 0xFF, 0xFF, 0x7F]];
                    byte[] v = varints[random.Next(varints.Length)];
                    for (int i = 0; i < v.Length && at + i < bytes.Count; i++) bytes[at + i] = v[i];
                    break;
                }
                case 5: // insert random bytes
                {
                    var extra = new byte[1 + random.Next(8)];
                    random.NextBytes(extra);
                    bytes.InsertRange(at, extra);
                    break;
                }
                default: // remove a run
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8)));
                    break;
            }
        }
        return bytes.ToArray();
    }

    private static string Describe(int seed, int frame, Sample sample, short version, byte[] input) =>
        $"seed {seed} frame {frame}: {sample.Spec.Name} v{version} (encoded at v{sample.Version}), input {(input.Length <= 4096 ? Convert.ToHexString(input) : input.Length + " bytes")}";

    [Fact(Timeout = 120_000)]
    public async Task MutatedAndRandomFramesOnlyEverFailTheReader()
    {
        int seed = Seed;
        await Task.Run(() =>
        {
            var random = new Random(seed);
            List<Sample> corpus = BuildCorpus(random);
            int failedReads = 0, cleanReads = 0;
            for (int frame = 0; frame < Frames; frame++)
            {
                Sample sample = corpus[random.Next(corpus.Count)];
                byte[] input;
                int mode = random.Next(10);
                if (mode == 0)
                {
                    input = new byte[random.Next(64)];
                    random.NextBytes(input);
                }
                else
                {
                    input = mode == 1 ? sample.Bytes : Mutate(sample.Bytes, random);
                }
                // Sometimes read at another valid version than the one it was written at.
                short version = random.Next(5) == 0
                    ? (short)random.Next(sample.Spec.ValidVersions.Lowest, sample.Spec.ValidVersions.Highest + 1)
                    : sample.Version;

                var message = (IMessage)Activator.CreateInstance(sample.Type)!;
                long before = GC.GetAllocatedBytesForCurrentThread();
                bool failed;
                try
                {
                    var reader = new KafkaReader(input);
                    message.Read(ref reader, version);
                    failed = reader.Failed;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{e.GetType().Name}: {e.Message} at {Describe(seed, frame, sample, version, input)}");
                    return;
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                if (input.Length < 4096 && allocated > MaxAllocatedBytesPerFrame)
                    Assert.Fail($"allocated {allocated} bytes for {Describe(seed, frame, sample, version, input)}");
                if (failed) failedReads++; else cleanReads++;
            }
            // The mutations must actually exercise the failure paths, and unmutated frames must read.
            Assert.True(failedReads > Frames / 4, $"seed {seed}: only {failedReads} failed reads");
            Assert.True(cleanReads > Frames / 20, $"seed {seed}: only {cleanReads} clean reads");
        });
    }

    [Fact(Timeout = 60_000)]
    public async Task MutatedRequestFramesNeverThrowFromFramingOrHeaderParsing()
    {
        int seed = Seed;
        await Task.Run(() =>
        {
            var random = new Random(seed);
            var header = new RequestHeader { RequestApiKey = ProduceRequest.ApiKey, RequestApiVersion = 9, CorrelationId = 7, ClientId = "client" };
            var body = new ProduceRequest { Acks = -1, TimeoutMs = 1000 };
            body.TopicData.Add(new ProduceRequest.TopicProduceData { Name = "t" });
            byte[] valid = new byte[4 + header.ComputeSize(2) + body.ComputeSize(9)];
            var writer = new KafkaWriter(valid);
            writer.WriteInt32(valid.Length - 4);
            header.Write(ref writer, 2);
            body.Write(ref writer, 9);

            for (int i = 0; i < 20_000; i++)
            {
                byte[] input = Mutate(valid, random);
                var buffer = new ReadOnlySequence<byte>(input);
                try
                {
                    while (RequestFraming.TryReadFrame(ref buffer, 1024, out ReadOnlySequence<byte> frame))
                    {
                        ReadOnlyMemory<byte> memory = RequestFraming.ToContiguous(frame, ArrayPool<byte>.Shared, out _);
                        RequestParseStatus status = RequestParser.Parse(memory, new RequestHeader(), out _, out IRequest? request);
                        Assert.Equal(status == RequestParseStatus.Ok, request is not null);
                    }
                }
                catch (InvalidFrameException)
                {
                    // The size prefix was mutated out of range: the connection would be closed.
                }
                catch (Exception e)
                {
                    Assert.Fail($"seed {seed} frame {i}: {e.GetType().Name}: {e.Message}, input {Convert.ToHexString(input)}");
                }
            }
        });
    }
}
