using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Podnet.Kernel;

/// <summary>
/// A pseudo-terminal for exec with a TTY: the master stays with the caller (reads are what the
/// process writes to its terminal, writes are what it reads), the process opens the slave by
/// its path as stdin, stdout and stderr and makes it its controlling terminal (setsid -c).
/// </summary>
public sealed partial class Pty : IDisposable
{
    private const int O_RDWR = 2;
    private const int O_NOCTTY = 0x100;
    private const int O_CLOEXEC = 0x80000;
    private const ulong TIOCSWINSZ = 0x5414;

    private Pty(SafeFileHandle master, string slavePath)
    {
        Master = master;
        SlavePath = slavePath;
    }

    public SafeFileHandle Master { get; }

    /// <summary>/dev/pts/N.</summary>
    public string SlavePath { get; }

    public static Pty Open()
    {
        var fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
        {
            throw KernelException.FromLastError("posix_openpt");
        }
        var master = new SafeFileHandle(fd, ownsHandle: true);
        if (grantpt(fd) != 0 || unlockpt(fd) != 0)
        {
            var error = KernelException.FromLastError("grantpt/unlockpt of a new pseudo-terminal");
            master.Dispose();
            throw error;
        }
        var buffer = new byte[128];
        var rc = ptsname_r(fd, buffer, buffer.Length);
        if (rc != 0)
        {
            master.Dispose();
            throw new KernelException("ptsname_r of a new pseudo-terminal", rc);
        }
        return new Pty(master, System.Text.Encoding.ASCII.GetString(buffer, 0, Array.IndexOf(buffer, (byte)0)));
    }

    /// <summary>Sets the terminal's size (the process gets SIGWINCH).</summary>
    public void Resize(ushort columns, ushort rows)
    {
        var size = new WinSize { Rows = rows, Columns = columns };
        if (ioctl(Master.DangerousGetHandle().ToInt32(), TIOCSWINSZ, ref size) != 0)
        {
            throw KernelException.FromLastError($"resize pseudo-terminal {SlavePath} to {columns}x{rows}");
        }
    }

    public void Dispose() => Master.Dispose();

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_openpt(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int grantpt(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlockpt(int fd);

    [LibraryImport("libc")]
    private static partial int ptsname_r(int fd, [Out] byte[] buffer, nint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, ulong request, ref WinSize size);
}
