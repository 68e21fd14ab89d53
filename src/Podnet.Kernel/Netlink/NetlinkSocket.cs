using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Podnet.Kernel.Native;

namespace Podnet.Kernel.Netlink;

/// <summary>
/// A NETLINK_ROUTE socket bound in the namespace it was opened in. One request at a time:
/// callers serialize through <see cref="RtNetlink"/>'s lock.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    private const int ReceiveBufferSize = 1 << 20;

    private readonly byte[] _receive = new byte[256 * 1024];
    private int _fd;
    private uint _sequence;
    private uint _portId;

    private NetlinkSocket(int fd, uint portId)
    {
        _fd = fd;
        _portId = portId;
        _sequence = (uint)Environment.TickCount;
    }

    /// <summary>Opens a socket in the calling thread's network namespace.</summary>
    public static unsafe NetlinkSocket Open()
    {
        var fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        if (fd < 0)
        {
            throw KernelException.FromLastError("open a rtnetlink socket");
        }
        var size = ReceiveBufferSize;
        Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &size, sizeof(int));
        var one = 1;
        Libc.setsockopt(fd, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, &one, sizeof(int));
        var address = new Libc.SockaddrNl { Family = Libc.AF_NETLINK };
        if (Libc.bind(fd, ref address, Marshal.SizeOf<Libc.SockaddrNl>()) != 0)
        {
            var e = KernelException.FromLastError("bind a rtnetlink socket");
            Libc.close(fd);
            throw e;
        }
        var length = Marshal.SizeOf<Libc.SockaddrNl>();
        Libc.getsockname(fd, ref address, ref length);
        return new NetlinkSocket(fd, address.Pid);
    }

    /// <summary>
    /// Sends <paramref name="message"/> and waits for its acknowledgement, throwing a
    /// <see cref="KernelException"/> with the kernel's errno (and extended-ack text) on failure.
    /// </summary>
    public void Execute(MessageWriter message, string operation)
    {
        var sequence = Send(message);
        Receive(sequence, operation, null);
    }

    /// <summary>Sends a dump request and hands each reply message's payload to <paramref name="onMessage"/>.</summary>
    public void Dump(MessageWriter message, string operation, ReplyHandler onMessage)
    {
        var sequence = Send(message);
        Receive(sequence, operation, onMessage);
    }

    public delegate void ReplyHandler(ushort type, ReadOnlySpan<byte> payload);

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }

    private unsafe uint Send(MessageWriter message)
    {
        var sequence = ++_sequence;
        var bytes = message.Finish(sequence);
        fixed (byte* p = bytes)
        {
            while (true)
            {
                var sent = Libc.send(Fd, p, bytes.Length, 0);
                if (sent >= 0)
                {
                    break;
                }
                if (Marshal.GetLastPInvokeError() != Libc.EINTR)
                {
                    throw KernelException.FromLastError("send a rtnetlink request");
                }
            }
        }
        return sequence;
    }

    private unsafe void Receive(uint sequence, string operation, ReplyHandler? onMessage)
    {
        var interrupted = false;
        while (true)
        {
            nint received;
            fixed (byte* p = _receive)
            {
                received = Libc.recv(Fd, p, _receive.Length, 0);
            }
            if (received < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                {
                    continue;
                }
                throw KernelException.FromLastError($"{operation}: receive the rtnetlink reply");
            }
            var data = _receive.AsSpan(0, (int)received);
            while (data.Length >= Nlm.HeaderLength)
            {
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
                var type = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
                var flags = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
                var seq = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
                var port = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
                if (length < Nlm.HeaderLength || length > data.Length)
                {
                    throw new KernelException($"{operation}: malformed rtnetlink reply", Libc.EINVAL);
                }
                var payload = data[Nlm.HeaderLength..length];
                var next = MessageWriter.Align(length);
                data = next >= data.Length ? default : data[next..];
                if (seq != sequence || (port != _portId && port != 0))
                {
                    continue; // a stale reply to an earlier, abandoned request
                }
                interrupted |= (flags & Nlm.DumpInterrupted) != 0;
                switch (type)
                {
                    case Nlm.Done:
                        if (interrupted)
                        {
                            throw new KernelException($"{operation}: the dump was interrupted by a concurrent change", 4, "retry");
                        }
                        return;
                    case Nlm.Error:
                        var errno = -BinaryPrimitives.ReadInt32LittleEndian(payload);
                        if (errno == 0)
                        {
                            if (onMessage is null)
                            {
                                return;
                            }
                            continue;
                        }
                        throw new KernelException(operation, errno, ExtendedAckMessage(payload, flags));
                    case Nlm.Noop:
                        continue;
                    default:
                        if (onMessage is null)
                        {
                            continue;
                        }
                        onMessage(type, payload);
                        if ((flags & Nlm.Multi) == 0)
                        {
                            return;
                        }
                        break;
                }
            }
        }
    }

    /// <summary>The kernel's extended-ack message (NLMSGERR_ATTR_MSG), which names the bad attribute.</summary>
    private static string? ExtendedAckMessage(ReadOnlySpan<byte> payload, ushort flags)
    {
        if ((flags & Nlm.AckTlvsFlag) == 0 || payload.Length < 4 + Nlm.HeaderLength)
        {
            return null;
        }
        var requestLength = (flags & Nlm.CappedFlag) != 0
            ? Nlm.HeaderLength
            : (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var offset = 4 + MessageWriter.Align(requestLength);
        if (offset >= payload.Length)
        {
            return null;
        }
        foreach (var attribute in new AttributeReader(payload[offset..]))
        {
            if (attribute.Type == Nlm.ExtAckMsg)
            {
                var end = attribute.Value.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end >= 0 ? attribute.Value[..end] : attribute.Value);
            }
        }
        return null;
    }

    private int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(NetlinkSocket));
}
