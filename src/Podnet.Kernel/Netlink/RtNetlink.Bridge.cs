using System.Buffers.Binary;

namespace Podnet.Kernel.Netlink;

public sealed partial class RtNetlink
{
    private const uint IffPromisc = 0x100;

    /// <summary>Turns promiscuous mode on or off (IFF_PROMISC), as <c>ip link set NAME promisc on|off</c>.</summary>
    public void SetPromisc(string name, bool on) => SetFlags(name, on ? IffPromisc : 0, IffPromisc, on ? "set promisc on" : "set promisc off");

    /// <summary>Turns VLAN filtering of an existing bridge on or off.</summary>
    public void SetBridgeVlanFiltering(string bridge, bool on) =>
        SetLinkInfoU8(bridge, Ifla.InfoKind, Ifla.InfoData, Ifla.BrVlanFiltering, on, $"set vlan_filtering {(on ? 1 : 0)} on {bridge}");

    /// <summary>
    /// Adds VLAN <paramref name="vid"/> to bridge port <paramref name="port"/> (or to the bridge
    /// itself with <paramref name="self"/>), as <c>bridge vlan add dev PORT vid VID [pvid] [untagged] [self]</c>.
    /// </summary>
    public void AddBridgeVlan(string port, ushort vid, bool pvid, bool untagged, bool self = false) =>
        Execute(BridgeVlanMessage(Rtm.SetLink, port, vid, pvid, untagged, self), $"add vlan {vid} to {port}");

    /// <summary>Removes VLAN <paramref name="vid"/> from a bridge port; false when it was not there.</summary>
    public bool DeleteBridgeVlan(string port, ushort vid, bool self = false) =>
        ExecuteDelete(BridgeVlanMessage(Rtm.DelLink, port, vid, false, false, self), $"delete vlan {vid} from {port}");

    private MessageWriter BridgeVlanMessage(ushort type, string port, ushort vid, bool pvid, bool untagged, bool self)
    {
        if (vid is 0 or > 4094)
        {
            throw new ArgumentOutOfRangeException(nameof(vid), vid, "a VLAN id is 1-4094");
        }
        var index = IndexOf(port);
        var message = new MessageWriter(type, Nlm.Ack);
        var header = message.Reserve(IfInfoLength);
        header[0] = Af.Bridge;
        WriteI32(header, 4, index);
        using (message.BeginNested(Ifla.AfSpec))
        {
            if (self)
            {
                Span<byte> flags = stackalloc byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(flags, Ifla.BridgeFlagsSelf);
                message.Attribute(Ifla.BridgeFlags, flags);
            }
            Span<byte> info = stackalloc byte[4];
            var infoFlags = (ushort)((pvid ? Ifla.BridgeVlanInfoPvid : 0) | (untagged ? Ifla.BridgeVlanInfoUntagged : 0));
            BinaryPrimitives.WriteUInt16LittleEndian(info, infoFlags);
            BinaryPrimitives.WriteUInt16LittleEndian(info[2..], vid);
            message.Attribute(Ifla.BridgeVlanInfo, info);
        }
        return message;
    }
}
