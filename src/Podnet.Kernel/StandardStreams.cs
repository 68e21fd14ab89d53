using Podnet.Kernel.Native;

namespace Podnet.Kernel;

/// <summary>
/// Plain write(2) to an inherited descriptor (stdout, stderr) for one-shot processes.
/// </summary>
/// <remarks>
/// Console's stream sets up the terminal before its first write (Console.Out, signal handling
/// and a thread for it), even into a pipe; a FileStream over the descriptor writes a regular
/// file with pwrite at its own position, which does not move the shared file offset, so output
/// redirected to a file would be overwritten by the next writer. write(2) does neither.
/// </remarks>
public static class StandardStreams
{
    public const int Output = 1;
    public const int Error = 2;

    public static unsafe void Write(int fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* start = bytes)
        {
            var done = 0;
            while (done < bytes.Length)
            {
                var n = Libc.write(fd, start + done, bytes.Length - done);
                if (n < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR)
                    {
                        continue;
                    }
                    throw KernelException.FromLastError($"write to descriptor {fd}");
                }
                done += (int)n;
            }
        }
    }
}
