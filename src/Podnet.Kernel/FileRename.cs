using System.Runtime.InteropServices;

namespace Podnet.Kernel;

/// <summary>
/// rename(2) as it is: replaces the destination in one step whatever the source is (a symlink
/// to a directory included), which File.Move refuses since it checks the source as a file. The
/// atomic writer of configMap and secret volumes swaps its ..data symlink with it.
/// </summary>
public static partial class FileRename
{
    public static void Replace(string source, string destination)
    {
        if (rename(source, destination) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"rename {source} to {destination}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string oldpath, string newpath);
}
