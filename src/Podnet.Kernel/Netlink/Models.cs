using System.Net;
using Podnet.Core.Net;

namespace Podnet.Kernel.Netlink;

/// <summary>A network interface as rtnetlink reports it.</summary>
public sealed record LinkInfo
{
    public required int Index { get; init; }

    public required string Name { get; init; }

    /// <summary>The link type ("veth", "bridge", "vxlan"…), or null for physical and loopback links.</summary>
    public string? Kind { get; init; }

    public int Mtu { get; init; }

    public MacAddress? Mac { get; init; }

    /// <summary>Administratively up (IFF_UP).</summary>
    public bool Up { get; init; }

    /// <summary>Carrier present (IFF_LOWER_UP).</summary>
    public bool LowerUp { get; init; }

    /// <summary>The index of the bridge this link is a port of.</summary>
    public int? MasterIndex { get; init; }

    /// <summary>IFLA_LINK: for a veth, the peer's index (in the peer's namespace when <see cref="LinkNetnsId"/> is set).</summary>
    public int? ParentIndex { get; init; }

    public int? LinkNetnsId { get; init; }

    /// <summary>Set when the link is a bridge port.</summary>
    public BridgePortInfo? BridgePort { get; init; }

    /// <summary>Set when the link is a VXLAN device.</summary>
    public VxlanInfo? Vxlan { get; init; }

    /// <summary>Set when the link is a bridge: whether VLAN filtering is on.</summary>
    public bool? VlanFiltering { get; init; }
}

public sealed record BridgePortInfo(bool Hairpin, bool Learning);

public sealed record VxlanInfo(uint Vni, IPAddress? Local, int Port, int? UnderlayIndex, bool Learning);

/// <summary>An address on an interface.</summary>
public sealed record AddressInfo(int LinkIndex, AddressPrefix Prefix, RouteScope Scope, uint Flags)
{
    public bool NoDad => (Flags & Ifa.FlagNoDad) != 0;
}

public enum RouteScope : byte
{
    Universe = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

public enum RouteType : byte
{
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
}

/// <summary>A route, for reading and for writing.</summary>
/// <remarks>Podnet writes routes with protocol "static" (4) so they can be told from the kernel's own.</remarks>
public sealed record RouteInfo
{
    public const uint MainTable = 254;
    public const byte ProtocolKernel = 2;
    public const byte ProtocolBoot = 3;
    public const byte ProtocolStatic = 4;

    /// <summary>The destination; 0.0.0.0/0 or ::/0 for a default route.</summary>
    public required IPNetwork Destination { get; init; }

    public IPAddress? Gateway { get; init; }

    /// <summary>The output interface's index, or 0 for none.</summary>
    public int LinkIndex { get; init; }

    public RouteScope Scope { get; init; } = RouteScope.Universe;

    public RouteType Type { get; init; } = RouteType.Unicast;

    public uint? Metric { get; init; }

    public uint Table { get; init; } = MainTable;

    public byte Protocol { get; init; } = ProtocolStatic;

    public IPAddress? PreferredSource { get; init; }

    /// <summary>Treat the gateway as directly reachable on the link even with no subnet route to it (RTNH_F_ONLINK), as overlays do.</summary>
    public bool OnLink { get; init; }
}

/// <summary>A neighbour (ARP or NDP) entry.</summary>
public sealed record NeighbourInfo(int LinkIndex, IPAddress Address, MacAddress? Mac, NeighbourState State);

[Flags]
public enum NeighbourState : ushort
{
    None = 0,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}

/// <summary>A forwarding-database entry of a bridge port or VXLAN device.</summary>
public sealed record FdbEntry(int LinkIndex, MacAddress Mac, IPAddress? Destination, bool Self, NeighbourState State);
