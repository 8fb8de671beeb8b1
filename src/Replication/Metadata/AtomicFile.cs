using System.Runtime.InteropServices;

namespace Broker.Replication.Metadata;

/// <summary>
/// Replaces a small file durably: write <c>path.tmp</c>, fsync it, rename over <c>path</c>, fsync
/// the directory (Kafka's checkpoint discipline, so a crash leaves either the old or the new file).
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Makes a rename durable; best effort off Linux/macOS (Windows has no directory fsync).</summary>
    public static void FsyncDirectory(string? directory)
    {
        if (directory is null || OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Native.Open(directory, 0); // O_RDONLY
        if (fd < 0)
        {
            return;
        }

        try
        {
            Native.Fsync(fd);
        }
        finally
        {
            Native.Close(fd);
        }
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
