using System.Text.Json;
using Broker.Integration.Tests.Clients;
using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// A group run by a client that is not librdkafka: kafka-python 2.0.2 (pure Python, its own
/// JoinGroup/SyncGroup state machine and client-side assignors, older API versions). Four
/// members split six partitions, one leaves, three share them.
/// </summary>
[Collection(ExternalClientsCollection.Name)]
public sealed class OtherClientGroupTests
{
    private static string ScriptsDirectory([System.Runtime.CompilerServices.CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "python");

    [Theory]
    [InlineData("range")]
    [InlineData("roundrobin")]
    public async Task KafkaPythonMembersSplitPartitionsAndTakeOverFromALeaver(string strategy)
    {
        ClientTools.RequireKafkaPython();
        await using var broker = await ConsumerGroupIntegrationTests.StartBrokerAsync();
        string topic = TestBroker.UniqueTopic();
        await ConsumerGroupIntegrationTests.CreateTopicAsync(broker, topic, 6);
        string group = "kafka-python-split-" + Guid.NewGuid().ToString("N");

        var run = await ExternalProcess.RunAsync(ClientTools.Python,
            ["-u", "-B", Path.Combine(ScriptsDirectory(), "group_split.py"), broker.BootstrapServers, topic, group, "4", "6", strategy],
            TimeSpan.FromSeconds(150), workingDirectory: ScriptsDirectory());
        using var result = run.ExpectJsonResult();
        var root = result.RootElement;
        Assert.False(root.TryGetProperty("error", out var error), $"{error}\n{run.Describe()}");

        int[][] Read(string phase) => root.GetProperty(phase).EnumerateArray()
            .Select(m => m.EnumerateArray().Select(p => p.GetInt32()).ToArray()).ToArray();
        var before = Read("before");
        var after = Read("after");
        Assert.Equal(4, before.Length);
        Assert.Equal(Enumerable.Range(0, 6), before.SelectMany(p => p).Order());
        Assert.All(before, m => Assert.InRange(m.Length, 1, 2));
        Assert.Equal(3, after.Length);
        Assert.Equal(Enumerable.Range(0, 6), after.SelectMany(p => p).Order());
        Assert.All(after, m => Assert.Equal(2, m.Length));
    }
}
