using System.Net;

namespace Broker.Tools.CaptureProxy;

internal sealed record ProxyOptions(IPEndPoint Listen, DnsEndPoint Target, string OutputDirectory, string? ClientLabel, int MaxPerApi)
{
    public const string Usage =
        "usage: CaptureProxy --listen <ip:port> --target <host:port> --out <dir> [--client <label>] [--max-per-api <n>]\n" +
        "  --listen       address to accept clients on (port 0 picks a free port; the line printed at start shows it)\n" +
        "  --target       the broker to forward to\n" +
        "  --out          directory for <seq>-<apiKey>-v<version>-<client>.bin (+ .response.bin)\n" +
        "  --client       label used in file names instead of the request's client id\n" +
        "  --max-per-api  keep at most n frames per (api key, version); later ones are forwarded but not written";

    public static ProxyOptions? Parse(string[] args)
    {
        string? listen = null, target = null, output = null, client = null;
        var maxPerApi = int.MaxValue;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--listen": listen = value; break;
                case "--target": target = value; break;
                case "--out": output = value; break;
                case "--client": client = value; break;
                case "--max-per-api":
                    if (!int.TryParse(value, out maxPerApi) || maxPerApi <= 0) return null;
                    break;
                default: return null;
            }
        }
        if (args.Length % 2 != 0 || listen is null || target is null || output is null) return null;
        if (!IPEndPoint.TryParse(listen, out var listenEndPoint)) return null;
        var colon = target.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(target.AsSpan(colon + 1), out var targetPort)) return null;
        return new ProxyOptions(listenEndPoint, new DnsEndPoint(target[..colon], targetPort), output, client, maxPerApi);
    }
}
