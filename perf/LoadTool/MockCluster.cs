using System.Runtime.InteropServices;
using System.Text;

namespace Broker.LoadTool;

/// <summary>
/// librdkafka's in-memory mock cluster (rdkafka_mock.h), used as the reference broker for
/// same-run comparisons. Confluent.Kafka does not wrap the rd_kafka_mock_* functions, so this
/// calls them through function pointers taken from the very librdkafka image that
/// Confluent.Kafka has already loaded (found in /proc/self/maps). Binding by path rather than
/// by name matters here: Confluent.Kafka falls back between several bundled builds (the
/// first one needs libsasl2.so.3, which Debian 12 lacks), and a second, different librdkafka
/// in the process would own a separate mock cluster.
///
/// The mock brokers listen on real loopback TCP sockets, so any client in this process (or
/// another) reaches them through <see cref="BootstrapServers"/>. They run on one librdkafka
/// thread inside this process: CPU spent by the mock competes with the load tool's own.
/// Not thread-safe; create, use and dispose from one thread.
/// </summary>
internal sealed unsafe class MockCluster : IDisposable
{
    private const int RdKafkaProducer = 0; // rd_kafka_type_t RD_KAFKA_PRODUCER

    private static readonly object s_loadLock = new();
    private static Exports? s_exports;

    private readonly Exports _exports;
    private IntPtr _handle;   // rd_kafka_t* that owns the mock cluster
    private IntPtr _cluster;  // rd_kafka_mock_cluster_t*

    public string BootstrapServers { get; }

    private readonly HashSet<int> _mockThreadsBefore;
    private int? _threadId;

    /// <summary>The mock's own thread ("rdk:mock"), whose CPU time is the mock broker's work.
    /// Found lazily: the thread names itself after rd_kafka_mock_cluster_new returns, and by
    /// the time a topic was created (a call served by that thread) it has.</summary>
    public int? ThreadId
    {
        get
        {
            if (_threadId is null)
            {
                var now = ProcessStats.ThreadsNamed("rdk:mock");
                now.ExceptWith(_mockThreadsBefore);
                if (now.Count == 1) foreach (var id in now) _threadId = id;
            }
            return _threadId;
        }
    }

    public MockCluster(int brokerCount)
    {
        if (brokerCount < 1) throw new ArgumentOutOfRangeException(nameof(brokerCount));
        _exports = LoadExports();
        var errorText = stackalloc byte[512];
        var conf = _exports.ConfNew();
        // A handle needs somewhere to log; the mock cluster's own broker threads log through it.
        SetConf(conf, "log_level", "3", errorText);
        SetConf(conf, "client.id", "loadtool-mock-owner", errorText);
        _handle = _exports.New(RdKafkaProducer, conf, errorText, 512);
        if (_handle == IntPtr.Zero)
            throw new InvalidOperationException("rd_kafka_new failed: " + Utf8(errorText));
        _mockThreadsBefore = ProcessStats.ThreadsNamed("rdk:mock");
        _cluster = _exports.MockClusterNew(_handle, brokerCount);
        if (_cluster == IntPtr.Zero)
        {
            _exports.Destroy(_handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        BootstrapServers = Marshal.PtrToStringUTF8(_exports.MockClusterBootstraps(_cluster))
            ?? throw new InvalidOperationException("mock cluster has no bootstrap address");
    }

    /// <summary>Creates a topic directly in the mock (it implements no CreateTopics API).</summary>
    public void CreateTopic(string topic, int partitionCount)
    {
        ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
        var name = Encoding.UTF8.GetBytes(topic + "\0");
        int error;
        fixed (byte* p = name)
            error = _exports.MockTopicCreate(_cluster, p, partitionCount, 1);
        if (error != 0)
            throw new InvalidOperationException($"rd_kafka_mock_topic_create({topic}) failed with error {error}");
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero) { _exports.MockClusterDestroy(_cluster); _cluster = IntPtr.Zero; }
        if (_handle != IntPtr.Zero) { _exports.Destroy(_handle); _handle = IntPtr.Zero; }
    }

    /// <summary>Path of the librdkafka image Confluent.Kafka loaded, for the report.</summary>
    public static string LibraryPath => LoadExports().Path;

    private void SetConf(IntPtr conf, string name, string value, byte* errorText)
    {
        var n = Encoding.UTF8.GetBytes(name + "\0");
        var v = Encoding.UTF8.GetBytes(value + "\0");
        fixed (byte* pn = n) fixed (byte* pv = v)
        {
            // RD_KAFKA_CONF_OK == 0
            if (_exports.ConfSet(conf, pn, pv, errorText, 512) != 0)
                throw new InvalidOperationException($"rd_kafka_conf_set({name}) failed: {Utf8(errorText)}");
        }
    }

    private static string Utf8(byte* text) => Marshal.PtrToStringUTF8((IntPtr)text) ?? "";

    private static Exports LoadExports()
    {
        lock (s_loadLock)
        {
            if (s_exports is not null) return s_exports;
            // Make Confluent.Kafka pick and load its native build (with its own fallbacks).
            Confluent.Kafka.Library.Load();
            var path = FindLoadedLibrdkafka()
                ?? throw new InvalidOperationException("librdkafka is not mapped into this process");
            var lib = NativeLibrary.Load(path);
            s_exports = new Exports(path, lib);
            return s_exports;
        }
    }

    private static string? FindLoadedLibrdkafka()
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/');
            if (slash < 0) continue;
            var path = line.Substring(slash);
            if (Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal)) return path;
        }
        return null;
    }

    private sealed class Exports
    {
        public readonly string Path;
        public readonly delegate* unmanaged<IntPtr> ConfNew;
        public readonly delegate* unmanaged<IntPtr, byte*, byte*, byte*, nuint, int> ConfSet;
        public readonly delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr> New;
        public readonly delegate* unmanaged<IntPtr, void> Destroy;
        public readonly delegate* unmanaged<IntPtr, int, IntPtr> MockClusterNew;
        public readonly delegate* unmanaged<IntPtr, void> MockClusterDestroy;
        public readonly delegate* unmanaged<IntPtr, IntPtr> MockClusterBootstraps;
        public readonly delegate* unmanaged<IntPtr, byte*, int, int, int> MockTopicCreate;

        public Exports(string path, IntPtr lib)
        {
            Path = path;
            ConfNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_conf_new");
            ConfSet = (delegate* unmanaged<IntPtr, byte*, byte*, byte*, nuint, int>)NativeLibrary.GetExport(lib, "rd_kafka_conf_set");
            New = (delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_new");
            Destroy = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(lib, "rd_kafka_destroy");
            MockClusterNew = (delegate* unmanaged<IntPtr, int, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_new");
            MockClusterDestroy = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_destroy");
            MockClusterBootstraps = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_bootstraps");
            MockTopicCreate = (delegate* unmanaged<IntPtr, byte*, int, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_topic_create");
        }
    }
}
