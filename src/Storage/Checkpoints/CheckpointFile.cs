using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage.Checkpoints;

/// <summary>
/// Kafka's text checkpoint layout (<c>CheckpointFile</c>): a version line ("0"), a line with the
/// entry count, then one entry per line with space-separated fields. Written crash-safely:
/// write <c>&lt;name&gt;.tmp</c>, fsync it, rename over the target, fsync the directory — so a
/// reader sees either the old or the new file, never a mix.
/// </summary>
internal static class CheckpointFile
{
    public const int CurrentVersion = 0;

    /// <summary>Writes <paramref name="lines"/> (entries without newlines) under the header.</summary>
    public static void Write(string path, IReadOnlyCollection<string> lines)
    {
        var text = new StringBuilder();
        text.Append(CurrentVersion.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append(lines.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (string line in lines)
        {
            text.Append(line).Append('\n');
        }

        WriteAtomically(path, Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>Temp file + fsync + rename + directory fsync.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        string temp = path + ".tmp";
        using (SafeFileHandle handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, content, 0);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(path));
    }

    /// <summary>
    /// Best effort: makes a rename durable by fsyncing the directory (Kafka Utils.flushDir).
    /// .NET cannot open a directory as a file, so on Unix this calls open/fsync/close in libc.
    /// </summary>
    public static void FsyncDirectory(string? directory)
    {
        if (directory is null || OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            int fd = NativeMethods.Open(directory, 0 /* O_RDONLY */);
            if (fd >= 0)
            {
                NativeMethods.Fsync(fd);
                NativeMethods.Close(fd);
            }
        }
        catch (DllNotFoundException)
        {
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    private static class NativeMethods
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }

    /// <summary>
    /// Reads the entry lines (each split on spaces); null when the file does not exist.
    /// Throws InvalidDataException on a bad version, count or field count.
    /// </summary>
    public static List<string[]>? Read(string path, int fieldsPerLine)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        string[] lines = File.ReadAllLines(path, Encoding.UTF8);
        if (lines.Length < 2 || lines[0].Trim() != "0")
        {
            throw new InvalidDataException($"Checkpoint {path}: unrecognised version line.");
        }

        if (!int.TryParse(lines[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 0)
        {
            throw new InvalidDataException($"Checkpoint {path}: bad entry count.");
        }

        var result = new List<string[]>(count);
        for (int i = 0; i < count; i++)
        {
            if (2 + i >= lines.Length)
            {
                throw new InvalidDataException($"Checkpoint {path}: expected {count} entries, found {i}.");
            }

            string[] fields = lines[2 + i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != fieldsPerLine)
            {
                throw new InvalidDataException($"Checkpoint {path}: malformed line '{lines[2 + i]}'.");
            }

            result.Add(fields);
        }

        return result;
    }
}
