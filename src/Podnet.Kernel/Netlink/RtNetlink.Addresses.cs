using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Core.Net;

namespace Podnet.Kernel.Netlink;

public sealed partial class RtNetlink
{
    private const int IfAddrLength = 8;

    /// <summary>Addresses of one link (or all links with index 0), optionally of one family.</summary>
    public IReadOnlyList<AddressInfo> GetAddresses(int linkIndex = 0, AddressFamily? family = null)
    {
        var message = new MessageWriter(Rtm.GetAddr, Nlm.Dump);
        var header = message.Reserve(IfAddrLength);
        header[0] = FamilyByte(family);
        return Dump(message, "list addresses", ParseAddress)
            .Where(a => linkIndex == 0 || a.LinkIndex == linkIndex)
            .ToArray();
    }

    /// <summary>
    /// Adds <paramref name="prefix"/> to <paramref name="link"/>. IPv6 addresses skip duplicate
    /// address detection unless asked, so a pod's address is usable at once.
    /// </summary>
    public void AddAddress(string link, AddressPrefix prefix, bool noDad = true) =>
        Execute(AddressMessage(Rtm.NewAddr, Nlm.Create | Nlm.Excl, IndexOf(link), prefix, noDad), $"add address {prefix} to {link}");

    /// <summary>Adds the address to the link with index <paramref name="linkIndex"/> (no lookup by name).</summary>
    public void AddAddress(int linkIndex, AddressPrefix prefix, bool noDad = true) =>
        Execute(AddressMessage(Rtm.NewAddr, Nlm.Create | Nlm.Excl, linkIndex, prefix, noDad), $"add address {prefix} to link #{linkIndex}");

    /// <summary>Adds the address, or keeps it when it is already there.</summary>
    public void EnsureAddress(string link, AddressPrefix prefix, bool noDad = true) =>
        Execute(AddressMessage(Rtm.NewAddr, Nlm.Create | Nlm.Replace, IndexOf(link), prefix, noDad), $"ensure address {prefix} on {link}");

    public bool DeleteAddress(string link, AddressPrefix prefix)
    {
        var index = FindLink(link)?.Index;
        return index is not null && ExecuteDelete(AddressMessage(Rtm.DelAddr, 0, index.Value, prefix, false), $"delete address {prefix} from {link}");
    }

    private static MessageWriter AddressMessage(ushort type, ushort flags, int index, AddressPrefix prefix, bool noDad)
    {
        var message = new MessageWriter(type, (ushort)(flags | Nlm.Ack));
        var header = message.Reserve(IfAddrLength);
        header[0] = prefix.IsIPv4 ? Af.Inet : Af.Inet6;
        header[1] = (byte)prefix.PrefixLength;
        WriteU32(header, 4, (uint)index);
        message.AttributeAddress(Ifa.Local, prefix.Address);
        message.AttributeAddress(Ifa.Address, prefix.Address);
        var ifaFlags = Ifa.FlagPermanent | (noDad && !prefix.IsIPv4 ? Ifa.FlagNoDad : 0);
        message.AttributeU32(Ifa.Flags, ifaFlags);
        return message;
    }

    private static AddressInfo? ParseAddress(ushort type, ReadOnlySpan<byte> payload)
    {
        if (type != Rtm.NewAddr || payload.Length < IfAddrLength)
        {
            return null;
        }
        int length = payload[1];
        uint flags = payload[2];
        var scope = (RouteScope)payload[3];
        var index = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        IPAddress? local = null, address = null;
        foreach (var a in new AttributeReader(payload[IfAddrLength..]))
        {
            switch (a.Type)
            {
                case Ifa.Local: local = a.Address; break;
                case Ifa.Address: address = a.Address; break;
                case Ifa.Flags: flags = a.U32; break;
            }
        }
        var chosen = local ?? address;
        return chosen is null ? null : new AddressInfo(index, new AddressPrefix(chosen, length), scope, flags);
    }

    private static byte FamilyByte(AddressFamily? family) => family switch
    {
        AddressFamily.InterNetwork => Af.Inet,
        AddressFamily.InterNetworkV6 => Af.Inet6,
        _ => Af.Unspec,
    };
}
