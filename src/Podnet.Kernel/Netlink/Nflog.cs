using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Podnet.Kernel.Native;

namespace Podnet.Kernel.Netlink;

/// <summary>A packet an nft <c>log group N</c> statement sent: its prefix, when, and its first bytes from the network header on.</summary>
public sealed record NflogPacket(string Prefix, DateTime Time, byte[] Payload);

/// <summary>
/// Listens to one nflog group (nfnetlink_log) in the namespace it was opened in: what nft's
/// <c>log group N</c> statements send there. Binds the group with packet copy mode and a small
/// copy range (the headers are enough); <see cref="Receive"/> blocks up to a second. One
/// listener per group and namespace: the kernel refuses a second bind (EBUSY).
/// </summary>
public sealed class NflogListener : IDisposable
{
    private const int NetlinkNetfilter = 12;
    private const int SoRcvtimeo = 20;
    private const int Eagain = 11;
    private const ushort SubsysUlog = 4;
    private const ushort MsgPacket = 0;
    private const ushort MsgConfig = 1;
    private const ushort CfgCmd = 1;
    private const ushort CfgMode = 2;
    private const byte CmdBind = 1;
    private const byte CopyPacket = 2;
    private const ushort AttrPayload = 9;
    private const ushort AttrPrefix = 10;
    private const ushort AttrTimestamp = 3;

    private readonly byte[] _receive = new byte[64 * 1024];
    private int _fd;

    private NflogListener(int fd) => _fd = fd;

    /// <summary>Opens and binds a listener in the calling thread's network namespace.</summary>
    public static unsafe NflogListener Open(ushort group, int copyRange = 96)
    {
        var fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, NetlinkNetfilter);
        if (fd < 0)
        {
            throw KernelException.FromLastError("open an nfnetlink socket");
        }
        var listener = new NflogListener(fd);
        try
        {
            var address = new Libc.SockaddrNl { Family = Libc.AF_NETLINK };
            if (Libc.bind(fd, ref address, Marshal.SizeOf<Libc.SockaddrNl>()) != 0)
            {
                throw KernelException.FromLastError("bind an nfnetlink socket");
            }
            var timeout = stackalloc long[2] { 1, 0 }; // struct timeval: one second
            Libc.setsockopt(fd, Libc.SOL_SOCKET, SoRcvtimeo, (int*)timeout, 16);
            listener.Configure(group, w => w.Attribute(CfgCmd, [CmdBind, 0, 0, 0]), "bind nflog group");
            listener.Configure(group, w =>
            {
                Span<byte> mode = stackalloc byte[6];
                BinaryPrimitives.WriteUInt32BigEndian(mode, (uint)copyRange);
                mode[4] = CopyPacket;
                w.Attribute(CfgMode, mode);
            }, "set nflog copy mode");
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>The packets that arrive within about a second (none on timeout).</summary>
    public unsafe IReadOnlyList<NflogPacket> Receive()
    {
        nint received;
        fixed (byte* p = _receive)
        {
            received = Libc.recv(Fd, p, _receive.Length, 0);
        }
        if (received < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Eagain or Libc.EINTR)
            {
                return [];
            }
            throw KernelException.FromLastError("receive from nflog");
        }
        var packets = new List<NflogPacket>();
        var data = _receive.AsSpan(0, (int)received);
        while (data.Length >= Nlm.HeaderLength)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
            if (length < Nlm.HeaderLength || length > data.Length)
            {
                break;
            }
            if (type == ((SubsysUlog << 8) | MsgPacket) && length >= Nlm.HeaderLength + 4)
            {
                packets.Add(Parse(data[(Nlm.HeaderLength + 4)..length]));
            }
            var next = MessageWriter.Align(length);
            data = next >= data.Length ? default : data[next..];
        }
        return packets;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }

    private static NflogPacket Parse(ReadOnlySpan<byte> attributes)
    {
        var prefix = "";
        var payload = Array.Empty<byte>();
        var time = DateTime.UtcNow;
        foreach (var attribute in new AttributeReader(attributes))
        {
            switch (attribute.Type)
            {
                case AttrPrefix:
                    var end = attribute.Value.IndexOf((byte)0);
                    prefix = Encoding.UTF8.GetString(end >= 0 ? attribute.Value[..end] : attribute.Value);
                    break;
                case AttrPayload:
                    payload = attribute.Value.ToArray();
                    break;
                case AttrTimestamp when attribute.Value.Length >= 16:
                    var seconds = (long)BinaryPrimitives.ReadUInt64BigEndian(attribute.Value);
                    var micros = (long)BinaryPrimitives.ReadUInt64BigEndian(attribute.Value[8..]);
                    time = DateTime.UnixEpoch.AddSeconds(seconds).AddTicks(micros * 10);
                    break;
            }
        }
        return new NflogPacket(prefix, time, payload);
    }

    private unsafe void Configure(ushort group, Action<MessageWriter> attributes, string operation)
    {
        var message = new MessageWriter((SubsysUlog << 8) | MsgConfig, Nlm.Ack);
        var header = message.Reserve(4); // nfgenmsg: family AF_UNSPEC, version 0, group (big endian)
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], group);
        attributes(message);
        var bytes = message.Finish(1);
        fixed (byte* p = bytes)
        {
            if (Libc.send(Fd, p, bytes.Length, 0) < 0)
            {
                throw KernelException.FromLastError(operation);
            }
        }
        nint received;
        fixed (byte* p = _receive)
        {
            received = Libc.recv(Fd, p, _receive.Length, 0);
        }
        if (received < Nlm.HeaderLength + 4)
        {
            throw KernelException.FromLastError($"{operation}: no acknowledgement");
        }
        var errno = -BinaryPrimitives.ReadInt32LittleEndian(_receive.AsSpan(Nlm.HeaderLength));
        if (BinaryPrimitives.ReadUInt16LittleEndian(_receive.AsSpan(4)) == Nlm.Error && errno != 0)
        {
            throw new KernelException(operation, errno);
        }
    }

    private int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(NflogListener));
}
