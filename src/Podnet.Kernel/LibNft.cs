using System.Runtime.InteropServices;
using Podnet.Core.Nft;

namespace Podnet.Kernel;

/// <summary>
/// An <see cref="INftRunner"/> over libnftables (Debian's libnftables1, the library nft itself
/// is built on), in this process: the same text, the same atomic transactions, no process
/// start per change. The context is made, and every transaction run, on a thread inside the
/// namespace (libnftables may open its netlink socket lazily, and a socket belongs to the
/// namespace of the thread that opens it): a runner for a node never touches another namespace.
/// </summary>
/// <remarks>
/// Measured on this machine with a 10,000-Service proxy table loaded: adding one element took
/// 4.2 ms in-process against about 10 ms for an <c>nft -f</c> process; on an empty table 0.08 ms.
/// What remains is nft reading the table's chains and sets back before each command (its cache),
/// which grows with the number of chains and sets, not elements. Calls are serialized: a
/// context is not thread-safe.
/// </remarks>
public sealed partial class LibNftRunner : INftRunner, IDisposable
{
    private const string Library = "libnftables.so.1";
    private readonly Lock _lock = new();
    private readonly Netns _netns;
    private IntPtr _context;

    private LibNftRunner(Netns netns, IntPtr context)
    {
        _netns = netns;
        _context = context;
    }

    /// <summary>A runner for <paramref name="netns"/>, or null when libnftables cannot be loaded here.</summary>
    public static LibNftRunner? TryCreate(Netns netns)
    {
        try
        {
            var context = netns.Briefly(() => nft_ctx_new(0));
            if (context == IntPtr.Zero)
            {
                return null;
            }
            nft_ctx_buffer_output(context);
            nft_ctx_buffer_error(context);
            return new LibNftRunner(netns, context);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    public void Apply(NftTransaction transaction)
    {
        if (transaction.IsEmpty)
        {
            return;
        }
        var script = transaction.ToScript();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_context == IntPtr.Zero, this);
            var context = _context;
            if (_netns.Briefly(() => nft_run_cmd_from_buffer(context, script)) != 0)
            {
                var error = Marshal.PtrToStringUTF8(nft_ctx_get_error_buffer(_context)) ?? "";
                throw new NftException($"libnftables failed: {error.Trim()}", script);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_context != IntPtr.Zero)
            {
                nft_ctx_free(_context);
                _context = IntPtr.Zero;
            }
        }
    }

    [LibraryImport(Library)]
    private static partial IntPtr nft_ctx_new(uint flags);

    [LibraryImport(Library)]
    private static partial void nft_ctx_free(IntPtr context);

    [LibraryImport(Library)]
    private static partial int nft_ctx_buffer_output(IntPtr context);

    [LibraryImport(Library)]
    private static partial int nft_ctx_buffer_error(IntPtr context);

    [LibraryImport(Library)]
    private static partial IntPtr nft_ctx_get_error_buffer(IntPtr context);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int nft_run_cmd_from_buffer(IntPtr context, string buffer);
}
