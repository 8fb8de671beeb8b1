using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;

namespace Broker.Tools.CaptureProxy;

/// <summary>
/// Writes captured frames to the output directory. Sequence numbers are global across
/// connections so that the files sort in the order the proxy saw the requests.
/// </summary>
internal sealed class FrameRecorder(ProxyOptions options)
{
    private readonly ConcurrentDictionary<(short ApiKey, short Version), int> _countPerApi = new();
    private int _sequence;

    /// <summary>
    /// Records a request frame (header + body, no size prefix). Returns the file stem used, so
    /// the response can be written next to it, or null when the frame was not written.
    /// </summary>
    public string? RecordRequest(ReadOnlySpan<byte> frame, long connectionId)
    {
        // Request header v0-v2 all start with api key, api version, correlation id, client id
        // (a classic nullable string even in the flexible header v2, per KIP-482).
        if (frame.Length < 8)
        {
            Console.Error.WriteLine($"conn {connectionId}: request frame of {frame.Length} bytes, too short for a header; not recorded");
            return null;
        }
        var apiKey = BinaryPrimitives.ReadInt16BigEndian(frame);
        var version = BinaryPrimitives.ReadInt16BigEndian(frame[2..]);
        var correlationId = BinaryPrimitives.ReadInt32BigEndian(frame[4..]);
        var clientId = ReadClientId(frame);
        var count = _countPerApi.AddOrUpdate((apiKey, version), 1, static (_, c) => c + 1);
        var label = Sanitise(options.ClientLabel ?? clientId ?? "none");
        Console.WriteLine($"conn {connectionId}: request api {apiKey} v{version} corr {correlationId} client '{clientId}' {frame.Length} bytes{(count > options.MaxPerApi ? " (not recorded)" : "")}");
        if (count > options.MaxPerApi) return null;

        var seq = Interlocked.Increment(ref _sequence);
        var stem = $"{seq:D5}-{apiKey}-v{version}-{label}";
        File.WriteAllBytes(Path.Combine(options.OutputDirectory, stem + ".bin"), frame.ToArray());
        return stem;
    }

    public void RecordResponse(ReadOnlySpan<byte> frame, string stem)
    {
        File.WriteAllBytes(Path.Combine(options.OutputDirectory, stem + ".response.bin"), frame.ToArray());
    }

    private static string? ReadClientId(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 10) return null;
        var length = BinaryPrimitives.ReadInt16BigEndian(frame[8..]);
        if (length < 0 || 10 + length > frame.Length) return null;
        return Encoding.UTF8.GetString(frame.Slice(10, length));
    }

    private static string Sanitise(string label)
    {
        var builder = new StringBuilder(label.Length);
        foreach (var c in label)
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '_');
        return builder.Length == 0 ? "none" : builder.ToString();
    }
}
