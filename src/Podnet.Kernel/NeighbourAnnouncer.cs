using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Core.Net;
using Podnet.Kernel.Native;
using Podnet.Kernel.Netlink;

namespace Podnet.Kernel;

/// <summary>
/// Tells the link's neighbours that an address now lives behind this interface: a gratuitous ARP
/// (IPv4: a request and a reply whose sender and target are the address) or an unsolicited
/// neighbour advertisement with the override flag (IPv6, to all nodes), sent through an
/// AF_PACKET socket made in the given namespace. Neighbours holding an entry for the address
/// replace its link-layer address at once, which is what moving an address between nodes needs.
/// </summary>
public static class NeighbourAnnouncer
{
    private const ushort EthPArp = 0x0806;
    private const ushort EthPIpv6 = 0x86DD;

    public static void Announce(Netns netns, string link, IPAddress address)
    {
        using var rt = RtNetlink.Open(netns);
        var info = rt.GetLink(link);
        var mac = info.Mac ?? throw new KernelException($"announce {address} on {link} (no link-layer address)", Libc.EINVAL);
        var macBytes = MacBytes(mac);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var broadcast = new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
            Send(netns, info.Index, EthPArp, broadcast, Arp(1, macBytes, address));
            Send(netns, info.Index, EthPArp, broadcast, Arp(2, macBytes, address));
        }
        else
        {
            Send(netns, info.Index, EthPIpv6, [0x33, 0x33, 0, 0, 0, 1], Advertisement(macBytes, address));
        }
    }

    /// <summary>An ARP packet (Ethernet, IPv4) of <paramref name="op"/> (1 request, 2 reply) whose sender and target address are both <paramref name="address"/>.</summary>
    public static byte[] Arp(ushort op, byte[] mac, IPAddress address)
    {
        var ip = address.GetAddressBytes();
        var packet = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(0), 1);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 0x0800);
        packet[4] = 6;
        packet[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), op);
        mac.CopyTo(packet, 8);
        ip.CopyTo(packet, 14);
        if (op == 2)
        {
            packet.AsSpan(18, 6).Fill(0xff);
        }
        ip.CopyTo(packet, 24);
        return packet;
    }

    /// <summary>An IPv6 packet from <paramref name="address"/> to ff02::1 carrying an unsolicited neighbour advertisement (override set) with the target link-layer address option.</summary>
    public static byte[] Advertisement(byte[] mac, IPAddress address)
    {
        var packet = new byte[40 + 32];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 32);
        packet[6] = 58;
        packet[7] = 255;
        address.GetAddressBytes().CopyTo(packet, 8);
        IPAddress.Parse("ff02::1").GetAddressBytes().CopyTo(packet, 24);
        var icmp = packet.AsSpan(40);
        icmp[0] = 136;
        icmp[4] = 0x20;
        address.GetAddressBytes().CopyTo(icmp[8..]);
        icmp[24] = 2;
        icmp[25] = 1;
        mac.CopyTo(icmp[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(packet.AsSpan(8, 16), packet.AsSpan(24, 16), icmp));
        return packet;
    }

    /// <summary>The ICMPv6 checksum: the one's complement sum over the pseudo-header and the message.</summary>
    private static ushort Checksum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message)
    {
        uint sum = 0;
        void Add(ReadOnlySpan<byte> bytes)
        {
            for (var i = 0; i < bytes.Length; i += 2)
            {
                sum += (uint)(bytes[i] << 8 | (i + 1 < bytes.Length ? bytes[i + 1] : 0));
            }
        }
        Add(source);
        Add(destination);
        Span<byte> tail = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(tail, (uint)message.Length);
        tail[7] = 58;
        Add(tail);
        Add(message);
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    private static byte[] MacBytes(MacAddress mac) => mac.ToBytes();

    private static unsafe void Send(Netns netns, int ifindex, ushort protocol, byte[] destination, byte[] payload)
    {
        var wire = BinaryPrimitives.ReverseEndianness(protocol);
        var fd = netns.Briefly(() => Libc.socket(Libc.AF_PACKET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, wire));
        if (fd < 0)
        {
            throw new KernelException("socket(AF_PACKET)", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
        try
        {
            var to = new Libc.SockaddrLl { Family = Libc.AF_PACKET, Protocol = wire, IfIndex = ifindex, HaLen = (byte)destination.Length };
            for (var i = 0; i < destination.Length; i++)
            {
                to.Addr[i] = destination[i];
            }
            fixed (byte* data = payload)
            {
                if (Libc.sendto(fd, data, payload.Length, 0, ref to, sizeof(Libc.SockaddrLl)) < 0)
                {
                    throw new KernelException($"sendto(AF_PACKET, ifindex {ifindex})", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
                }
            }
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
