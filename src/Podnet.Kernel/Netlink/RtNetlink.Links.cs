using System.Buffers.Binary;
using System.Net;
using Podnet.Core.Net;

namespace Podnet.Kernel.Netlink;

public sealed partial class RtNetlink
{
    private const int IfInfoLength = 16;
    private const uint IffUp = 0x1;
    private const uint IffLowerUp = 0x10000;

    public IReadOnlyList<LinkInfo> GetLinks() =>
        Dump(LinkMessage(Rtm.GetLink, Nlm.Dump, 0), "list links", ParseLink);

    /// <summary>The link named <paramref name="name"/>, or null.</summary>
    public LinkInfo? FindLink(string name)
    {
        var message = LinkMessage(Rtm.GetLink, 0, 0);
        message.AttributeString(Ifla.IfName, name);
        try
        {
            return Dump(message, $"get link {name}", ParseLink).FirstOrDefault();
        }
        catch (KernelException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    public LinkInfo GetLink(string name) =>
        FindLink(name) ?? throw new KernelException($"get link {name} in {NamespacePath}", 19);

    public LinkInfo? FindLink(int index)
    {
        try
        {
            return Dump(LinkMessage(Rtm.GetLink, 0, index), $"get link #{index}", ParseLink).FirstOrDefault();
        }
        catch (KernelException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    public int IndexOf(string name) => GetLink(name).Index;

    /// <summary>
    /// Creates a veth pair; the peer is created directly in <paramref name="peerNamespace"/>
    /// when given. Returns nothing: read either end back by name.
    /// </summary>
    /// <remarks>
    /// <paramref name="masterIndex"/> makes the new end a port of that bridge and
    /// <paramref name="up"/> sets it up, in the same request (one round trip instead of three);
    /// the peer has to be set up afterwards.
    /// </remarks>
    public void CreateVeth(string name, string peerName, Netns? peerNamespace = null, int mtu = 0, MacAddress? mac = null, MacAddress? peerMac = null,
        int masterIndex = 0, bool up = false)
    {
        var message = NewLink(name, mtu, mac, up);
        if (masterIndex != 0)
        {
            message.AttributeU32(Ifla.Master, (uint)masterIndex);
        }
        using (message.BeginNested(Ifla.LinkInfo))
        {
            message.AttributeString(Ifla.InfoKind, "veth");
            using (message.BeginNested(Ifla.InfoData))
            using (message.BeginNested(Ifla.VethInfoPeer))
            {
                // Not up here: a veth end cannot open before its peer is linked (ENOTCONN).
                message.Reserve(IfInfoLength);
                message.AttributeString(Ifla.IfName, peerName);
                if (mtu > 0)
                {
                    message.AttributeU32(Ifla.Mtu, (uint)mtu);
                }
                if (peerMac is { } pm)
                {
                    message.Attribute(Ifla.Address, pm.ToBytes());
                }
                if (peerNamespace is not null)
                {
                    message.AttributeU32(Ifla.NetNsFd, (uint)peerNamespace.Fd);
                }
            }
        }
        Execute(message, $"create veth {name} with peer {peerName}" + (peerNamespace is null ? "" : $" in {peerNamespace.Path}"));
    }

    public void CreateBridge(string name, int mtu = 0, MacAddress? mac = null, bool vlanFiltering = false)
    {
        var message = NewLink(name, mtu, mac);
        using (message.BeginNested(Ifla.LinkInfo))
        {
            message.AttributeString(Ifla.InfoKind, "bridge");
            if (vlanFiltering)
            {
                using (message.BeginNested(Ifla.InfoData))
                {
                    message.AttributeU8(Ifla.BrVlanFiltering, 1);
                }
            }
        }
        Execute(message, $"create bridge {name}");
    }

    /// <summary>Creates a VXLAN device with learning off unless asked (entries come from the control plane).</summary>
    public void CreateVxlan(string name, uint vni, IPAddress? local, string? underlay, int port = 4789, bool learning = false, int mtu = 0, MacAddress? mac = null)
    {
        var underlayIndex = underlay is null ? 0 : IndexOf(underlay);
        var message = NewLink(name, mtu, mac);
        using (message.BeginNested(Ifla.LinkInfo))
        {
            message.AttributeString(Ifla.InfoKind, "vxlan");
            using (message.BeginNested(Ifla.InfoData))
            {
                message.AttributeU32(Ifla.VxlanId, vni);
                if (underlayIndex != 0)
                {
                    message.AttributeU32(Ifla.VxlanLink, (uint)underlayIndex);
                }
                if (local is not null)
                {
                    message.AttributeAddress(local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Ifla.VxlanLocal : Ifla.VxlanLocal6, local);
                }
                message.AttributeU16BigEndian(Ifla.VxlanPort, (ushort)port);
                message.AttributeU8(Ifla.VxlanLearning, learning ? (byte)1 : (byte)0);
            }
        }
        Execute(message, $"create vxlan {name} (vni {vni})");
    }

    public bool DeleteLink(string name)
    {
        var message = LinkMessage(Rtm.DelLink, 0, 0);
        message.AttributeString(Ifla.IfName, name);
        return ExecuteDelete(message, $"delete link {name}");
    }

    public void SetUp(string name) => SetFlags(name, IffUp, IffUp, "set up");

    public void SetDown(string name) => SetFlags(name, 0, IffUp, "set down");

    public void SetMtu(string name, int mtu)
    {
        var message = LinkByName(name);
        message.AttributeU32(Ifla.Mtu, (uint)mtu);
        Execute(message, $"set mtu {mtu} on {name}");
    }

    public void SetMac(string name, MacAddress mac)
    {
        var message = LinkByName(name);
        message.Attribute(Ifla.Address, mac.ToBytes());
        Execute(message, $"set address {mac} on {name}");
    }

    /// <summary>Makes <paramref name="name"/> a port of bridge <paramref name="master"/> (null: detach it).</summary>
    public void SetMaster(string name, string? master)
    {
        var masterIndex = master is null ? 0 : IndexOf(master);
        var message = LinkByName(name);
        message.AttributeU32(Ifla.Master, (uint)masterIndex);
        Execute(message, master is null ? $"detach {name} from its bridge" : $"attach {name} to {master}");
    }

    public void Rename(string name, string newName)
    {
        var index = IndexOf(name);
        var message = LinkMessage(Rtm.NewLink, 0, index);
        message.AttributeString(Ifla.IfName, newName);
        Execute(message, $"rename {name} to {newName}");
    }

    /// <summary>Moves the link into <paramref name="target"/>, optionally renaming it on the way.</summary>
    public void MoveTo(string name, Netns target, string? newName = null)
    {
        var index = IndexOf(name);
        var message = LinkMessage(Rtm.NewLink, 0, index);
        message.AttributeU32(Ifla.NetNsFd, (uint)target.Fd);
        if (newName is not null)
        {
            message.AttributeString(Ifla.IfName, newName);
        }
        Execute(message, $"move {name} to {target.Path}");
    }

    /// <summary>Sets bridge-port options of <paramref name="name"/>; null leaves an option as it is.</summary>
    public void SetBridgePort(string name, bool? hairpin = null, bool? learning = null)
    {
        var index = IndexOf(name);
        var message = new MessageWriter(Rtm.SetLink, Nlm.Ack);
        var header = message.Reserve(IfInfoLength);
        header[0] = Af.Bridge;
        WriteI32(header, 4, index);
        using (message.BeginNested(Ifla.ProtInfo))
        {
            if (hairpin is { } h)
            {
                message.AttributeU8(Ifla.BrPortMode, h ? (byte)1 : (byte)0);
            }
            if (learning is { } l)
            {
                message.AttributeU8(Ifla.BrPortLearning, l ? (byte)1 : (byte)0);
            }
        }
        Execute(message, $"set bridge port options on {name}");
    }

    /// <summary>
    /// Sets the hairpin mode of bridge port <paramref name="name"/> by name, as bridge-slave data
    /// of RTM_NEWLINK (`ip link set NAME type bridge_slave hairpin on`): no index lookup first.
    /// </summary>
    public void SetBridgePortHairpin(string name, bool hairpin) =>
        SetLinkInfoU8(name, Ifla.InfoSlaveKind, Ifla.InfoSlaveData, Ifla.BrPortMode, hairpin, $"set hairpin {(hairpin ? "on" : "off")} on {name}");

    /// <summary>RTM_NEWLINK on <paramref name="name"/> setting one u8 of its bridge (or bridge-port) link info.</summary>
    private void SetLinkInfoU8(string name, ushort kindType, ushort dataType, ushort attribute, bool value, string what)
    {
        var message = LinkByName(name);
        using (message.BeginNested(Ifla.LinkInfo))
        {
            message.AttributeString(kindType, "bridge");
            using (message.BeginNested(dataType))
            {
                message.AttributeU8(attribute, value ? (byte)1 : (byte)0);
            }
        }
        Execute(message, what);
    }

    private void SetFlags(string name, uint flags, uint change, string what)
    {
        var message = new MessageWriter(Rtm.NewLink, Nlm.Ack);
        var header = message.Reserve(IfInfoLength);
        WriteU32(header, 8, flags);
        WriteU32(header, 12, change);
        message.AttributeString(Ifla.IfName, name);
        Execute(message, $"{what} {name}");
    }

    private static MessageWriter NewLink(string name, int mtu, MacAddress? mac, bool up = false)
    {
        if (!LinkNames.IsValid(name))
        {
            throw new ArgumentException($"'{name}' is not a valid interface name (1-15 characters, no '/', ':' or spaces)");
        }
        var message = new MessageWriter(Rtm.NewLink, Nlm.Ack | Nlm.Create | Nlm.Excl);
        var header = message.Reserve(IfInfoLength);
        if (up)
        {
            WriteU32(header, 8, IffUp);
            WriteU32(header, 12, IffUp);
        }
        message.AttributeString(Ifla.IfName, name);
        if (mtu > 0)
        {
            message.AttributeU32(Ifla.Mtu, (uint)mtu);
        }
        if (mac is { } m)
        {
            message.Attribute(Ifla.Address, m.ToBytes());
        }
        return message;
    }

    private static MessageWriter LinkByName(string name)
    {
        var message = LinkMessage(Rtm.NewLink, 0, 0);
        message.AttributeString(Ifla.IfName, name);
        return message;
    }

    private static MessageWriter LinkMessage(ushort type, ushort flags, int index)
    {
        var message = new MessageWriter(type, (ushort)(flags | (type == Rtm.GetLink ? 0 : Nlm.Ack)));
        var header = message.Reserve(IfInfoLength);
        WriteI32(header, 4, index);
        return message;
    }

    private static LinkInfo? ParseLink(ushort type, ReadOnlySpan<byte> payload)
    {
        if (type != Rtm.NewLink || payload.Length < IfInfoLength)
        {
            return null;
        }
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string name = "";
        string? kind = null;
        int mtu = 0;
        MacAddress? mac = null;
        int? master = null, parent = null, netnsId = null;
        BridgePortInfo? port = null;
        VxlanInfo? vxlan = null;
        bool? vlanFiltering = null;
        foreach (var a in new AttributeReader(payload[IfInfoLength..]))
        {
            switch (a.Type)
            {
                case Ifla.IfName: name = a.String; break;
                case Ifla.Mtu: mtu = (int)a.U32; break;
                case Ifla.Address when a.Value.Length == 6: mac = MacAddress.FromBytes(a.Value); break;
                case Ifla.Master: master = (int)a.U32; break;
                case Ifla.Link: parent = a.I32; break;
                case Ifla.LinkNetNsId: netnsId = a.I32; break;
                case Ifla.LinkInfo:
                    ParseLinkInfo(a.Nested, ref kind, ref port, ref vxlan, ref vlanFiltering);
                    break;
            }
        }
        return new LinkInfo
        {
            Index = index,
            Name = name,
            Kind = kind,
            Mtu = mtu,
            Mac = mac,
            Up = (flags & IffUp) != 0,
            LowerUp = (flags & IffLowerUp) != 0,
            MasterIndex = master is 0 ? null : master,
            ParentIndex = parent == index && netnsId is null ? null : parent,
            LinkNetnsId = netnsId,
            BridgePort = port,
            Vxlan = vxlan,
            VlanFiltering = vlanFiltering,
        };
    }

    private static void ParseLinkInfo(AttributeReader info, ref string? kind, ref BridgePortInfo? port, ref VxlanInfo? vxlan, ref bool? vlanFiltering)
    {
        string? slaveKind = null;
        foreach (var a in info)
        {
            if (a.Type == Ifla.InfoKind)
            {
                kind = a.String;
            }
            else if (a.Type == Ifla.InfoSlaveKind)
            {
                slaveKind = a.String;
            }
        }
        foreach (var a in info)
        {
            if (a.Type == Ifla.InfoSlaveData && slaveKind == "bridge")
            {
                bool hairpin = false, learning = false;
                foreach (var p in a.Nested)
                {
                    if (p.Type == Ifla.BrPortMode) hairpin = p.U8 != 0;
                    if (p.Type == Ifla.BrPortLearning) learning = p.U8 != 0;
                }
                port = new BridgePortInfo(hairpin, learning);
            }
            else if (a.Type == Ifla.InfoData && kind == "vxlan")
            {
                uint vni = 0;
                IPAddress? local = null;
                int portNumber = 0;
                int? underlay = null;
                var learning = false;
                foreach (var v in a.Nested)
                {
                    switch (v.Type)
                    {
                        case Ifla.VxlanId: vni = v.U32; break;
                        case Ifla.VxlanLocal or Ifla.VxlanLocal6: local = v.Address; break;
                        case Ifla.VxlanPort: portNumber = BinaryPrimitives.ReadUInt16BigEndian(v.Value); break;
                        case Ifla.VxlanLink: underlay = (int)v.U32; break;
                        case Ifla.VxlanLearning: learning = v.U8 != 0; break;
                    }
                }
                vxlan = new VxlanInfo(vni, local, portNumber, underlay, learning);
            }
            else if (a.Type == Ifla.InfoData && kind == "bridge")
            {
                foreach (var b in a.Nested)
                {
                    if (b.Type == Ifla.BrVlanFiltering) vlanFiltering = b.U8 != 0;
                }
                vlanFiltering ??= false;
            }
        }
    }
}
