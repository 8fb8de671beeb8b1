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
            // Produce until told to stop; the cap only bounds memory if the test goes wrong.
            for (int i = 0; i < 2_000_000 && !stop.IsCancellationRequested; i++)
            {
                long value = i;
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        producer.Produce(tp, new Message<byte[], byte[]> { Key = null!, Value = ClientHelpers.Value(value) }, report =>
                        {
                            if (!report.Error.IsError)
                            {
                                acknowledged.Add(value);
                            }
                        });
                        break;
                    }
                    catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(10)); // the broker is restarting: let the queue drain
                    }
                }

                Volatile.Write(ref sent, i + 1);
                if (i % 100 == 0)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(1)); // pace the stream
                }
            }
        });

        Assert.True(SpinWait.SpinUntil(() => acknowledged.Count >= 2000, TimeSpan.FromSeconds(60)), "the stream started");
        int sentBeforeRestart = Volatile.Read(ref sent);
        await broker.RestartAsync();
        int ackedAfterRestart = acknowledged.Count;
        // The stream goes on through the restart: more records are sent and acknowledged after it.
        Assert.True(SpinWait.SpinUntil(() => acknowledged.Count >= ackedAfterRestart + 2000, TimeSpan.FromSeconds(60)), "the stream continued after the restart");
        stop.Cancel();
        await stream.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        Assert.True(Volatile.Read(ref sent) > sentBeforeRestart);

        List<long> acked = acknowledged.ToList();
        Assert.True(acked.Count > 2000);
        long highWatermark;
        using (IConsumer<byte[], byte[]> probe = ClientHelpers.Consumer(broker.BootstrapServers))
        {
            highWatermark = probe.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
        }

        Assert.True(highWatermark >= acked.Count);
        List<ConsumeResult<byte[], byte[]>> consumed = ClientHelpers.ConsumeFrom(broker.BootstrapServers, topic, 0, Offset.Beginning, (int)highWatermark, TimeSpan.FromSeconds(60));
        Assert.Equal(highWatermark, consumed.Count);
        var values = consumed.Select(c => ClientHelpers.ValueOf(c.Message.Value)).ToList();
        Assert.Equal(values.Count, values.Distinct().Count()); // idempotence: no duplicate across the restart
        var present = values.ToHashSet();
        Assert.All(acked, v => Assert.Contains(v, present)); // nothing acknowledged is lost
        Assert.Equal(values.OrderBy(v => v), values); // one idempotent producer: order kept
        Assert.Equal(Enumerable.Range(0, consumed.Count).Select(i => (long)i), consumed.Select(c => c.Offset.Value));
    }
}
