using System.Runtime.ExceptionServices;
using Podnet.Kernel.Native;

namespace Podnet.Kernel;

/// <summary>
/// A network namespace, held open by a file descriptor, and named namespaces kept the way
/// <c>ip netns</c> keeps them: a bind mount of the namespace file under <c>/run/netns</c>.
/// </summary>
/// <remarks>
/// The namespace of a thread is per OS thread, while .NET moves async work between pool
/// threads. So work "inside" a namespace runs on a fresh OS thread that enters it, runs a
/// synchronous delegate and exits: the thread never goes back to a pool, so a failure to
/// return to the original namespace can leak nothing (the hazard described in
/// containernetworking/plugins pkg/ns/README.md). Never await inside <see cref="Run{T}"/>.
/// Netlink sockets keep the namespace they were opened in, so <see cref="Netlink.RtNetlink"/>
/// only enters the namespace to open its socket, and only for the few calls that takes
/// (<see cref="Briefly{T}"/>, on the calling thread).
/// </remarks>
public sealed class Netns : IDisposable
{
    public const string RunDirectory = "/run/netns";

    private int _fd;

    private Netns(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The path this handle was opened from (a /run/netns file or a /proc path).</summary>
    public string Path { get; }

    /// <summary>The name under /run/netns, or null when opened from another path.</summary>
    public string? Name => Path.StartsWith(RunDirectory + "/", StringComparison.Ordinal) ? Path[(RunDirectory.Length + 1)..] : null;

    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(Netns));

    public static string PathOf(string name) => System.IO.Path.Combine(RunDirectory, name);

    /// <summary>
    /// The namespace as the kernel names it in every /proc/PID/ns/net link ("net:[inode]"), so
    /// processes inside it can be found whatever path they entered it by.
    /// </summary>
    /// <remarks>Read from inside it: the link of an fd opened on a /run/netns file names that file.</remarks>
    public string Identity => Run(() => new FileInfo("/proc/thread-self/ns/net").LinkTarget)
        ?? throw new KernelException($"read the identity of network namespace {Path}", Libc.ENOENT);

    /// <summary>Opens a namespace by name (under /run/netns) or by absolute path.</summary>
    public static Netns Open(string nameOrPath)
    {
        var path = nameOrPath.StartsWith('/') ? nameOrPath : PathOf(nameOrPath);
        var fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw KernelException.FromLastError($"open network namespace {path}");
        }
        return new Netns(fd, path);
    }

    /// <summary>
    /// True when the open file is a network namespace (ioctl NS_GET_NSTYPE answers CLONE_NEWNET);
    /// any other file, such as /dev/null given as a namespace path, is not.
    /// </summary>
    public bool IsNetworkNamespace => Libc.ioctl(Fd, 0xb703 /* NS_GET_NSTYPE */) == 0x40000000 /* CLONE_NEWNET */;

    /// <summary>The namespace of the calling thread.</summary>
    public static Netns OpenCurrent() => Open($"/proc/self/task/{Libc.gettid()}/ns/net");

    public static bool Exists(string name) => File.Exists(PathOf(name));

    /// <summary>The names under /run/netns, as <c>ip netns list</c> shows them.</summary>
    public static IReadOnlyList<string> List() =>
        Directory.Exists(RunDirectory)
            ? Directory.GetFiles(RunDirectory).Select(p => System.IO.Path.GetFileName(p)).Order(StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>Creates a new, empty namespace named <paramref name="name"/>; fails if the name is taken.</summary>
    public static Netns Create(string name)
    {
        ValidateName(name);
        EnsureRunDirectory();
        var path = PathOf(name);
        var fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw KernelException.FromLastError($"create network namespace file {path}");
        }
        Libc.close(fd);
        try
        {
            OnFreshThread(() =>
            {
                if (Libc.unshare(Libc.CLONE_NEWNET) != 0)
                {
                    throw KernelException.FromLastError($"unshare a network namespace for {name}");
                }
                var self = $"/proc/self/task/{Libc.gettid()}/ns/net";
                if (Libc.mount(self, path, "none", Libc.MS_BIND, 0) != 0)
                {
                    throw KernelException.FromLastError($"bind-mount {self} onto {path}");
                }
                return 0;
            });
        }
        catch
        {
            File.Delete(path);
            throw;
        }
        return Open(path);
    }

    /// <summary>Removes the named namespace, as <c>ip netns delete</c>; true if it existed.</summary>
    /// <remarks>The namespace itself lives on while a process or open descriptor still holds it.</remarks>
    public static bool Delete(string name)
    {
        ValidateName(name);
        var path = PathOf(name);
        if (!File.Exists(path))
        {
            return false;
        }
        if (Libc.umount2(path, Libc.MNT_DETACH) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != Libc.EINVAL)
            {
                throw new KernelException($"unmount network namespace {path}", errno);
            }
        }
        File.Delete(path);
        return true;
    }

    /// <summary>Runs <paramref name="work"/> on a fresh OS thread inside this namespace and returns its result.</summary>
    public T Run<T>(Func<T> work)
    {
        var fd = Fd;
        var path = Path;
        return OnFreshThread(() =>
        {
            if (Libc.setns(fd, Libc.CLONE_NEWNET) != 0)
            {
                throw KernelException.FromLastError($"enter network namespace {path}");
            }
            return work();
        });
    }

    /// <summary>
    /// Runs <paramref name="open"/>, which must only create a descriptor (a socket) and return,
    /// with the calling thread inside this namespace for just that long; a socket keeps the
    /// namespace it was made in. A fresh thread (<see cref="Run{T}"/>) costs a CNI ADD 0.1 ms of
    /// CPU, 0.35 ms under load (the runtime yields in a loop until the new thread has started).
    /// Nothing in between awaits or can move to another thread, and if the thread cannot go
    /// back to its own namespace the process ends rather than run on in the wrong one.
    /// </summary>
    internal T Briefly<T>(Func<T> open)
    {
        var own = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (own < 0)
        {
            throw KernelException.FromLastError("open the calling thread's network namespace");
        }
        try
        {
            if (Libc.setns(Fd, Libc.CLONE_NEWNET) != 0)
            {
                throw KernelException.FromLastError($"enter network namespace {Path}");
            }
            try
            {
                return open();
            }
            finally
            {
                if (Libc.setns(own, Libc.CLONE_NEWNET) != 0)
                {
                    Environment.FailFast($"could not return from network namespace {Path} to the thread's own: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
                }
            }
        }
        finally
        {
            Libc.close(own);
        }
    }

    public void Run(Action work) => Run(() =>
    {
        work();
        return 0;
    });

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }

    public override string ToString() => Path;

    /// <summary>Runs <paramref name="work"/> on a new OS thread that exits afterwards, whatever namespace it was left in.</summary>
    private static T OnFreshThread<T>(Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, 256 * 1024)
        {
            IsBackground = true,
            Name = "podnet-netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    private static void ValidateName(string name)
    {
        if (name.Length == 0 || name.Length > 255 || name.Contains('/') || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a valid network namespace name");
        }
    }

    /// <summary>
    /// Makes /run/netns a shared mount point, as iproute2 does, so that namespace mounts made
    /// here propagate to other mount namespaces (a pod's private mount namespace included).
    /// </summary>
    private static void EnsureRunDirectory()
    {
        Directory.CreateDirectory(RunDirectory);
        if (Libc.mount("none", RunDirectory, null, Libc.MS_SHARED | Libc.MS_REC, 0) == 0)
        {
            return;
        }
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno != Libc.EINVAL)
        {
            throw new KernelException($"make {RunDirectory} a shared mount", errno);
        }
        if (Libc.mount(RunDirectory, RunDirectory, "none", Libc.MS_BIND | Libc.MS_REC, 0) != 0)
        {
            throw KernelException.FromLastError($"bind-mount {RunDirectory} onto itself");
        }
        if (Libc.mount("none", RunDirectory, null, Libc.MS_SHARED | Libc.MS_REC, 0) != 0)
        {
            throw KernelException.FromLastError($"make {RunDirectory} a shared mount");
        }
    }
}
