using System.Runtime.InteropServices;

namespace Podnet.Kernel;

/// <summary>execv(2): this process becomes another program, keeping its pid, environment and open standard streams.</summary>
public static partial class ProcessImage
{
    /// <summary>
    /// Replaces this process with <paramref name="file"/> run with <paramref name="arguments"/>
    /// (argv[0] is <paramref name="file"/> as given, as a shell would pass it). Returns only if the
    /// kernel refuses, by throwing.
    /// </summary>
    public static void Replace(string file, IReadOnlyList<string> arguments)
    {
        // The caller may be any thread: the new program starts with no blocked signals.
        Span<ulong> empty = stackalloc ulong[16];
        empty.Clear();
        unsafe
        {
            fixed (ulong* set = empty)
            {
                _ = sigprocmask(SigSetMask, set, null);
            }
        }
        var argv = new string?[arguments.Count + 2];
        argv[0] = file;
        for (var i = 0; i < arguments.Count; i++)
        {
            argv[i + 1] = arguments[i];
        }
        execv(file, argv);
        throw KernelException.FromLastError($"run {file}");
    }

    private const int SigSetMask = 2;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execv(string path, string?[] argv);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int sigprocmask(int how, ulong* set, ulong* oldset);
}
