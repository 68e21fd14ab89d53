using Podnet.Kernel.Native;

namespace Podnet.Kernel;

/// <summary>
/// A kernel call failed. <see cref="Errno"/> is the kernel's error number (positive), and the
/// message says what was asked, so that "File exists" comes with the link or route it is about.
/// </summary>
public sealed class KernelException : Exception
{
    public KernelException(string operation, int errno, string? detail = null)
        : base(Format(operation, errno, detail))
    {
        Operation = operation;
        Errno = errno;
    }

    public string Operation { get; }

    public int Errno { get; }

    public bool IsNotFound => Errno is Libc.ENOENT or 19 /* ENODEV */ or 3 /* ESRCH */ or 99 /* EADDRNOTAVAIL */;

    public bool IsExists => Errno == Libc.EEXIST;

    private static string Format(string operation, int errno, string? detail)
    {
        var text = $"{operation}: {Libc.ErrorText(errno)} (errno {errno})";
        return string.IsNullOrEmpty(detail) ? text : $"{text}: {detail}";
    }

    internal static KernelException FromLastError(string operation) =>
        new(operation, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
}
