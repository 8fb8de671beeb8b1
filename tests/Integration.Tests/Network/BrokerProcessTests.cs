using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using static Broker.Integration.Tests.Infrastructure.RawRecords;

namespace Broker.Integration.Tests.Network;

/// <summary>
/// The broker as an operator runs it: a separate process configured by --override and KAFKA_*
/// environment variables, stopped by SIGTERM or SIGINT (Ctrl-C), which must shut it down cleanly
/// (exit code 0, Kafka's .kafka_cleanshutdown marker written); an invalid value stops it at once
/// with exit code 2 and a message naming the key.
/// </summary>
public sealed partial class BrokerProcessTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-process-" + Guid.NewGuid().ToString("N"));

    public BrokerProcessTests() => Directory.CreateDirectory(_dataDir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    [Theory]
    [InlineData(15, "SIGTERM")]
    [InlineData(2, "SIGINT")]
    public async Task SignalShutsDownCleanly(int signal, string name)
    {
        using var broker = new BrokerProcess(
            ["--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "log.dirs=" + _dataDir, "--override", "offsets.topic.num.partitions=1"],
            new Dictionary<string, string> { ["KAFKA_NUM_PARTITIONS"] = "3", ["KAFKA_NO_SUCH_KEY"] = "1" });
        string bootstrap = await broker.WaitForListenerAsync();
        Assert.Contains("'no.such.key' was supplied but isn't a known config", broker.Output);

        await using (RawConnection client = await RawConnection.ConnectAsync(bootstrap))
        {
            string topic = Infrastructure.TestBroker.UniqueTopic("signal");
            var create = new CreateTopicsRequest { TimeoutMs = 10000 };
            create.Topics.Add(new CreateTopicsRequest.CreatableTopic { Name = topic, NumPartitions = -1, ReplicationFactor = -1 });
            CreateTopicsResponse created = await client.SendAsync<CreateTopicsResponse>(create, 7);
            Assert.Equal(3, Assert.Single(created.Topics).NumPartitions); // num.partitions from KAFKA_NUM_PARTITIONS

            var produce = new ProduceRequest { Acks = 1, TimeoutMs = 5000 };
            produce.TopicData.Add(new ProduceRequest.TopicProduceData { Name = topic, PartitionData = { new ProduceRequest.PartitionProduceData { Index = 0, Records = new MemoryRecords(Batch(1, 8)) } } });
            ProduceResponse produced = await client.SendAsync<ProduceResponse>(produce, 9);
            Assert.Equal(0, Assert.Single(Assert.Single(produced.Responses).PartitionResponses).ErrorCode);
        }

        Assert.Equal(0, Kill(broker.Id, signal));
        int exitCode = await broker.WaitForExitAsync();

        Assert.True(exitCode == 0, $"exit code {exitCode} after {name}\n{broker.Output}");
        Assert.True(File.Exists(Path.Combine(_dataDir, ".kafka_cleanshutdown")), $"no clean shutdown marker after {name}\n{broker.Output}");
        Assert.Contains("Stopped accepting", broker.Output);
    }

    [Fact]
    public async Task InvalidValueExitsWithCode2NamingTheKey()
    {
        using var broker = new BrokerProcess(["--override", "log.dirs=" + _dataDir], new Dictionary<string, string> { ["KAFKA_SOCKET_REQUEST_MAX_BYTES"] = "huge" });

        int exitCode = await broker.WaitForExitAsync();

        Assert.Equal(2, exitCode);
        Assert.Contains("socket.request.max.bytes", broker.Errors);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>The broker's own executable (Broker.dll, copied next to the tests) run with `dotnet`.</summary>
    private sealed partial class BrokerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();
        private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public BrokerProcess(string[] args, IReadOnlyDictionary<string, string> environment)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Broker.dll"));
            foreach (string a in args) start.ArgumentList.Add(a);
            // The test runner's own KAFKA_* variables must not leak into the broker under test.
            foreach (string key in start.Environment.Keys.ToArray())
            {
                if (key.StartsWith("KAFKA_", StringComparison.Ordinal) || key == "CLUSTER_ID") start.Environment.Remove(key);
            }

            foreach ((string key, string value) in environment) start.Environment[key] = value;
            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_stdout) _stdout.AppendLine(e.Data);
                Match m = ListeningLine().Match(e.Data);
                if (m.Success) _listening.TrySetResult($"127.0.0.1:{m.Groups[1].Value}");
            };
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_stderr) _stderr.AppendLine(e.Data);
            };
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Id => _process.Id;

        public string Output
        {
            get
            {
                lock (_stdout) return _stdout.ToString();
            }
        }

        public string Errors
        {
            get
            {
                lock (_stderr) return _stderr.ToString();
            }
        }

        public async Task<string> WaitForListenerAsync()
        {
            Task exited = _process.WaitForExitAsync();
            Task done = await Task.WhenAny(_listening.Task, exited).WaitAsync(Deadline);
            if (done != _listening.Task) throw new Xunit.Sdk.XunitException($"broker exited before listening\n{Output}\n{Errors}");
            return await _listening.Task;
        }

        public async Task<int> WaitForExitAsync()
        {
            using var timeout = new CancellationTokenSource(Deadline);
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }

        [GeneratedRegex(@"Listening on \S+ \(127\.0\.0\.1:(\d+)\)")]
        private static partial Regex ListeningLine();
    }
}
