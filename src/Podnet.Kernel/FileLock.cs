using System.Diagnostics;
using Podnet.Kernel.Native;

namespace Podnet.Kernel;

/// <summary>
/// An advisory flock(2) on a lock file, shared or exclusive, held until disposed (or until the
/// process exits, when the kernel drops it: a crashed holder never leaves a stale lock).
/// </summary>
/// <remarks>
/// Shared holders never wait for each other, so many CNI ADDs can allocate at once while a GC,
/// which needs the store to itself, takes the lock exclusively. Waiting polls a non-blocking
/// flock so that a timeout is possible without signals.
/// </remarks>
public sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd) => _fd = fd;

    /// <summary>Takes the lock on <paramref name="path"/> (created if missing) or throws <see cref="TimeoutException"/>.</summary>
    public static FileLock Acquire(string path, bool exclusive, TimeSpan timeout)
    {
        var fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4 /* 0644 */);
        if (fd < 0)
        {
            throw new IOException($"open lock file {path}: {Libc.ErrorText(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
        }
        var operation = (exclusive ? Libc.LOCK_EX : Libc.LOCK_SH) | Libc.LOCK_NB;
        var clock = Stopwatch.StartNew();
        var delay = 1;
        while (true)
        {
            if (Libc.flock(fd, operation) == 0)
            {
                return new FileLock(fd);
            }
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno is not (Libc.EWOULDBLOCK or Libc.EINTR))
            {
                Libc.close(fd);
                throw new IOException($"flock {path}: {Libc.ErrorText(errno)}");
            }
            if (clock.Elapsed >= timeout)
            {
                Libc.close(fd);
                throw new TimeoutException($"{path} stayed locked for {timeout.TotalMilliseconds:0} ms");
            }
            Thread.Sleep(delay);
            delay = Math.Min(delay * 2, 20);
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }
}
