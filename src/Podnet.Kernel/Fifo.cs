using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Podnet.Kernel;

/// <summary>
/// Named pipes (mkfifo): a container's stdin, kept open by its shim, that `kubectl attach -i`
/// writes into. A reader's open waits for a writer and its reads end when the last writer
/// closes; a writer that finds no reader is told so at once instead of waiting.
/// </summary>
public static partial class Fifo
{
    private const int O_RDONLY = 0;
    private const int O_WRONLY = 1;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int ENXIO = 6;
    private const int EEXIST = 17;

    /// <summary>Makes the pipe at <paramref name="path"/> (mode 0600); one already there is kept.</summary>
    public static void Create(string path)
    {
        if (mkfifo(path, Convert.ToUInt32("600", 8)) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != EEXIST)
        {
            throw new KernelException($"mkfifo {path}", errno);
        }
    }

    /// <summary>Opens the pipe for reading: waits until some process opens it for writing.</summary>
    public static FileStream OpenReader(string path)
    {
        var fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd >= 0 ? new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 0)
            : throw KernelException.FromLastError($"open {path} for reading");
    }

    /// <summary>Opens the pipe for (blocking) writes, or null when no process has it open for reading.</summary>
    public static FileStream? TryOpenWriter(string path)
    {
        var fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError() == ENXIO ? null : throw KernelException.FromLastError($"open {path} for writing");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var flags = fcntl(fd, F_GETFL, 0);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
        {
            var error = KernelException.FromLastError($"make {path} blocking");
            handle.Dispose();
            throw error;
        }
        return new FileStream(handle, FileAccess.Write, 0);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);
}
