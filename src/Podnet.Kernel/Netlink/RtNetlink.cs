using System.Buffers.Binary;

namespace Podnet.Kernel.Netlink;

/// <summary>
/// rtnetlink for one network namespace: links, addresses, routes, neighbours and FDB entries.
/// </summary>
/// <remarks>
/// The socket is opened inside the namespace (on a throwaway thread, see <see cref="Netns"/>),
/// and a netlink socket keeps acting on the namespace it was made in, so every call here can
/// come from any thread. Calls are serialized by a lock: one request is in flight at a time.
/// Methods named Add/Create fail when the object exists (EEXIST); Set/Ensure create or replace.
/// Delete returns false when the object was already gone.
/// </remarks>
public sealed partial class RtNetlink : IDisposable
{
    private readonly NetlinkSocket _socket;
    private readonly Lock _lock = new();

    private RtNetlink(NetlinkSocket socket, string namespacePath)
    {
        _socket = socket;
        NamespacePath = namespacePath;
    }

    /// <summary>The namespace this handle acts on.</summary>
    public string NamespacePath { get; }

    /// <summary>Opens rtnetlink inside <paramref name="netns"/>.</summary>
    public static RtNetlink Open(Netns netns) => new(netns.Briefly(NetlinkSocket.Open), netns.Path);

    /// <summary>Opens rtnetlink in the namespace of the calling thread (an agent on a real node uses this).</summary>
    public static RtNetlink OpenInCurrentNamespace() => new(NetlinkSocket.Open(), "(current)");

    public void Dispose() => _socket.Dispose();

    private void Execute(MessageWriter message, string operation)
    {
        lock (_lock)
        {
            _socket.Execute(message, $"{operation} in {NamespacePath}");
        }
    }

    /// <summary>Runs <paramref name="operation"/>; false when the kernel says the object does not exist.</summary>
    private bool ExecuteDelete(MessageWriter message, string operation)
    {
        try
        {
            Execute(message, operation);
            return true;
        }
        catch (KernelException e) when (e.IsNotFound)
        {
            return false;
        }
    }

    private List<T> Dump<T>(MessageWriter message, string operation, Func<ushort, ReadOnlySpan<byte>, T?> parse)
        where T : class
    {
        // A dump that races a change comes back flagged as interrupted: try again a few times.
        for (var attempt = 0; ; attempt++)
        {
            var items = new List<T>();
            try
            {
                lock (_lock)
                {
                    _socket.Dump(message, $"{operation} in {NamespacePath}", (type, payload) =>
                    {
                        var item = parse(type, payload);
                        if (item is not null)
                        {
                            items.Add(item);
                        }
                    });
                }
                return items;
            }
            catch (KernelException e) when (e.Errno == 4 && attempt < 5)
            {
            }
        }
    }

    private static void WriteU32(Span<byte> span, int offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], value);

    private static void WriteI32(Span<byte> span, int offset, int value) =>
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], value);
}
