using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Podnet.Kernel.Native;

/// <summary>
/// A file's identity (device and inode) by path or by open descriptor, to notice that a path
/// now names another file (a log rotated under its reader). x86_64 struct stat layout: st_dev at
/// 0, st_ino at 8, 144 bytes in all.
/// </summary>
internal static unsafe partial class FileIdentity
{
    public static (ulong Device, ulong Inode)? OfPath(string path)
    {
        var buffer = stackalloc byte[256];
        return stat(path, buffer) == 0 ? Read(buffer) : null;
    }

    public static (ulong Device, ulong Inode)? OfHandle(SafeFileHandle handle)
    {
        var buffer = stackalloc byte[256];
        return fstat((int)handle.DangerousGetHandle(), buffer) == 0 ? Read(buffer) : null;
    }

    private static (ulong, ulong) Read(byte* buffer) => (*(ulong*)buffer, *(ulong*)(buffer + 8));

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int stat(string path, byte* buffer);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fstat(int fd, byte* buffer);
}
