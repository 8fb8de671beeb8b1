// CaptureProxy: a TCP proxy that records the Kafka frames passing through it.
//
//   dotnet run --project tools/CaptureProxy -- --listen 127.0.0.1:19092 --target 127.0.0.1:9092 \
//       --out /tmp/capture [--client kcat] [--max-per-api 5]
//
// Each request frame is written as <seq>-<apiKey>-v<version>-<client>.bin and its response as
// <seq>-<apiKey>-v<version>-<client>.response.bin (same seq), without the 4-byte size prefix, i.e.
// exactly the bytes a decoder gets: request header + body, or response header + body.
// <client> is --client when given, else the request header's client id (sanitised).
//
// Clients reconnect to the addresses the broker advertises in Metadata, so start the target broker
// with `--override advertised.listeners=PLAINTEXT://<listen address>` to keep every connection on
// the proxy.
using System.Net;
using System.Net.Sockets;
using Broker.Tools.CaptureProxy;

var options = ProxyOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(ProxyOptions.Usage);
    return 2;
}

Directory.CreateDirectory(options.OutputDirectory);
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => cts.Cancel();

var listener = new TcpListener(options.Listen);
listener.Start();
// Printed first and alone on its line so a script can read the port when --listen used port 0.
Console.WriteLine($"listening {listener.LocalEndpoint} -> {options.Target.Host}:{options.Target.Port}, writing to {Path.GetFullPath(options.OutputDirectory)}");

var recorder = new FrameRecorder(options);
var connectionId = 0;
try
{
    while (!cts.IsCancellationRequested)
    {
        var client = await listener.AcceptTcpClientAsync(cts.Token);
        var id = Interlocked.Increment(ref connectionId);
        _ = Task.Run(() => new ProxiedConnection(id, client, options.Target, recorder).RunAsync(cts.Token));
    }
}
catch (OperationCanceledException)
{
}
finally
{
    listener.Stop();
}
return 0;
