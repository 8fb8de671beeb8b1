// Capture driver for tests/Protocol.Tests/Golden/confluent: runs Confluent.Kafka through CaptureProxy.
using Confluent.Kafka;
using Confluent.Kafka.Admin;

var bootstrap = args[0];
var steps = args.Length > 1 ? args[1].Split(',') : ["admin", "produce", "idempotent", "group"];
string[] codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
const string ClientId = "golden-confluent";

if (steps.Contains("admin"))
{
    using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, ClientId = ClientId }).Build();
    var specs = codecs.Select(c => new TopicSpecification { Name = $"golden-{c}", NumPartitions = 1, ReplicationFactor = 1 }).ToList();
    specs.Add(new TopicSpecification { Name = "golden-idempotent", NumPartitions = 1, ReplicationFactor = 1 });
    try { await admin.CreateTopicsAsync(specs, new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(20) }); Console.WriteLine("topics created"); }
    catch (CreateTopicsException e) { Console.WriteLine("create topics: " + string.Join(", ", e.Results.Select(r => $"{r.Topic}:{r.Error.Code}"))); }
    catch (KafkaException e) { Console.WriteLine("create topics: " + e.Error); } // producers auto-create them
    var md = admin.GetMetadata(TimeSpan.FromSeconds(10));
    Console.WriteLine($"metadata: {md.Brokers.Count} brokers, {md.Topics.Count} topics");
}

if (steps.Contains("produce"))
{
    foreach (var codec in codecs)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap, ClientId = ClientId, Acks = Acks.All, LingerMs = 50,
            CompressionType = Enum.Parse<CompressionType>(codec, ignoreCase: true), EnableIdempotence = false,
        };
        using var producer = new ProducerBuilder<string, string>(config).Build();
        var tasks = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync($"golden-{codec}", new Message<string, string>
        {
            Key = $"key-{i}", Value = $"golden value {i} compressed with {codec} " + new string('x', 50),
            Headers = new Headers { { "h", "v"u8.ToArray() } },
        })).ToArray();
        var results = await Task.WhenAll(tasks);
        Console.WriteLine($"{codec}: offsets {results[0].Offset}..{results[^1].Offset}");
    }
}

if (steps.Contains("idempotent"))
{
    var config = new ProducerConfig { BootstrapServers = bootstrap, ClientId = ClientId, EnableIdempotence = true, LingerMs = 20 };
    using var producer = new ProducerBuilder<string, string>(config).Build();
    var tasks = Enumerable.Range(0, 5).Select(i => producer.ProduceAsync("golden-idempotent", new Message<string, string> { Key = $"k{i}", Value = $"v{i}" })).ToArray();
    var results = await Task.WhenAll(tasks);
    Console.WriteLine($"idempotent: offsets {results[0].Offset}..{results[^1].Offset}");
}

if (steps.Contains("group"))
{
    var config = new ConsumerConfig
    {
        BootstrapServers = bootstrap, ClientId = ClientId, GroupId = "golden-group-confluent",
        AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false, SessionTimeoutMs = 10000,
    };
    using var consumer = new ConsumerBuilder<string, string>(config).Build();
    consumer.Subscribe("golden-none");
    var deadline = DateTime.UtcNow.AddSeconds(15);
    var read = 0;
    while (read < 10 && DateTime.UtcNow < deadline)
    {
        var r = consumer.Consume(TimeSpan.FromMilliseconds(500));
        if (r is not null && !r.IsPartitionEOF) read++;
    }
    // Commit an explicit offset so the OffsetCommit vector does not depend on what was fetched.
    try { consumer.Commit([new TopicPartitionOffset("golden-none", 0, 10)]); }
    catch (KafkaException e) { Console.WriteLine("commit: " + e.Error); }
    var committed = consumer.Committed(TimeSpan.FromSeconds(10));
    Console.WriteLine($"group: read {read}, committed {string.Join(",", committed.Select(c => c.Offset))}");
    consumer.Close();
}
