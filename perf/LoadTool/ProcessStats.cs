using System.Globalization;
using System.Runtime.InteropServices;

namespace Broker.LoadTool;

/// <summary>
/// CPU time and peak memory of a process (the broker under test) or of one thread (the mock
/// cluster's "rdk:mock" thread inside this process), read from /proc.
/// </summary>
internal static partial class ProcessStats
{
    private const int ScClkTck = 2; // _SC_CLK_TCK on Linux

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    private static readonly double s_ticksPerSecond = Math.Max(1, SysConf(ScClkTck));

    /// <summary>utime + stime of /proc/&lt;pid&gt;/stat in seconds (all threads, reaped children excluded).</summary>
    public static double ProcessCpuSeconds(int pid) => CpuSeconds($"/proc/{pid}/stat");

    public static double ThreadCpuSeconds(int tid) => CpuSeconds($"/proc/self/task/{tid}/stat");

    private static double CpuSeconds(string statPath)
    {
        var text = File.ReadAllText(statPath);
        // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
        var fields = text.Substring(text.LastIndexOf(')') + 2).Split(' ');
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / s_ticksPerSecond;
    }

    /// <summary>VmHWM (peak resident set) in MiB, or null if the process is gone.</summary>
    public static double? PeakRssMegabytes(int pid) => StatusKilobytes(pid, "VmHWM:") / 1024.0;

    public static double? RssMegabytes(int pid) => StatusKilobytes(pid, "VmRSS:") / 1024.0;

    private static long? StatusKilobytes(int pid, string key)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(key.Length).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
        return null;
    }

    /// <summary>Ids of this process's threads named <paramref name="comm"/>.</summary>
    public static HashSet<int> ThreadsNamed(string comm)
    {
        var ids = new HashSet<int>();
        foreach (var dir in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == comm)
                    ids.Add(int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture));
            }
            catch (IOException) { } // thread exited while we looked
        }
        return ids;
    }
}
