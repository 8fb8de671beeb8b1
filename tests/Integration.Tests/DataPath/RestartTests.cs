using System.Collections.Concurrent;
using Broker.Integration.Tests.Infrastructure;
using Confluent.Kafka;

namespace Broker.Integration.Tests.DataPath;

public sealed class RestartTests
{
    [Fact]
    public async Task A_restart_in_the_middle_of_a_stream_loses_nothing_acknowledged()
    {
        await using TestBroker broker = await TestBroker.StartAsync();
        string topic = TestBroker.UniqueTopic();
        var acknowledged = new ConcurrentBag<long>();
        using IProducer<byte[], byte[]> producer = ClientHelpers.Producer(broker.BootstrapServers, Acks.All, CompressionType.Snappy, idempotent: true, c =>
        {
            c.MessageTimeoutMs = 60_000;
            c.RetryBackoffMs = 50;
            c.ReconnectBackoffMs = 20;
            c.ReconnectBackoffMaxMs = 200;
        });
        var tp = new TopicPartition(topic, 0);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        int sent = 0;
        Task stream = Task.Run(() =>
        {
            for (int i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
            {
                long value = i;
                producer.Produce(tp, new Message<byte[], byte[]> { Key = null!, Value = ClientHelpers.Value(value) }, report =>
                {
                    if (!report.Error.IsError)
                    {
                        acknowledged.Add(value);
                    }
                });
                sent++;
                if (i % 100 == 0)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(1)); // pace the stream so the restart lands in the middle
                }
            }
        });

        Assert.True(SpinWait.SpinUntil(() => acknowledged.Count >= 2000, TimeSpan.FromSeconds(60)), "the stream started");
        await broker.RestartAsync();
        await stream.WaitAsync(TimeSpan.FromSeconds(90));
        producer.Flush(TimeSpan.FromSeconds(60));

        List<long> acked = acknowledged.ToList();
        Assert.True(acked.Count > 2000);
        List<ConsumeResult<byte[], byte[]>> consumed = ClientHelpers.ConsumeFrom(broker.BootstrapServers, topic, 0, Offset.Beginning, sent, TimeSpan.FromSeconds(60));
        var values = consumed.Select(c => ClientHelpers.ValueOf(c.Message.Value)).ToList();
        Assert.Equal(values.Count, values.Distinct().Count()); // idempotence: no duplicate across the restart
        var present = values.ToHashSet();
        Assert.All(acked, v => Assert.Contains(v, present)); // nothing acknowledged is lost
        Assert.Equal(values.OrderBy(v => v), values); // one idempotent producer: order kept
        Assert.Equal(Enumerable.Range(0, consumed.Count).Select(i => (long)i), consumed.Select(c => c.Offset.Value));
    }
}
