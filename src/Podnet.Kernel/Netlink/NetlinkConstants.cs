namespace Podnet.Kernel.Netlink;

// Values from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h,
// linux/neighbour.h and linux/if_bridge.h. Only what Podnet uses.

internal static class Nlm
{
    // Message types.
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;

    // Flags.
    public const ushort Request = 0x1;
    public const ushort Multi = 0x2;
    public const ushort Ack = 0x4;
    public const ushort DumpInterrupted = 0x10;
    public const ushort Dump = 0x300;
    public const ushort Replace = 0x100;
    public const ushort Excl = 0x200;
    public const ushort Create = 0x400;
    public const ushort Append = 0x800;

    public const int HeaderLength = 16;
    public const ushort NestedFlag = 0x8000;

    // Extended ACK attributes (after the embedded request in an NLMSG_ERROR).
    public const ushort ExtAckMsg = 1;
    public const ushort CappedFlag = 0x100;
    public const ushort AckTlvsFlag = 0x200;
}

internal static class Rtm
{
    public const ushort NewLink = 16;
    public const ushort DelLink = 17;
    public const ushort GetLink = 18;
    public const ushort SetLink = 19;
    public const ushort NewAddr = 20;
    public const ushort DelAddr = 21;
    public const ushort GetAddr = 22;
    public const ushort NewRoute = 24;
    public const ushort DelRoute = 25;
    public const ushort GetRoute = 26;
    public const ushort NewNeigh = 28;
    public const ushort DelNeigh = 29;
    public const ushort GetNeigh = 30;
}

internal static class Af
{
    public const byte Unspec = 0;
    public const byte Inet = 2;
    public const byte Bridge = 7;
    public const byte Inet6 = 10;
}

internal static class Ifla
{
    public const ushort Address = 1;
    public const ushort IfName = 3;
    public const ushort Mtu = 4;
    public const ushort Link = 5;
    public const ushort Master = 10;
    public const ushort ProtInfo = 12;
    public const ushort OperState = 16;
    public const ushort LinkInfo = 18;
    public const ushort NetNsFd = 28;
    public const ushort LinkNetNsId = 37;
    public const ushort AfSpec = 26;

    // Inside IFLA_AF_SPEC of an AF_BRIDGE message (linux/if_bridge.h).
    public const ushort BridgeFlags = 0;
    public const ushort BridgeVlanInfo = 2;
    public const ushort BridgeFlagsSelf = 2;
    public const ushort BridgeVlanInfoPvid = 2;
    public const ushort BridgeVlanInfoUntagged = 4;

    public const ushort InfoKind = 1;
    public const ushort InfoData = 2;
    public const ushort InfoSlaveKind = 4;
    public const ushort InfoSlaveData = 5;

    public const ushort VethInfoPeer = 1;

    public const ushort BrVlanFiltering = 7;

    public const ushort BrPortMode = 4;      // hairpin
    public const ushort BrPortLearning = 8;

    public const ushort VxlanId = 1;
    public const ushort VxlanLink = 3;
    public const ushort VxlanLocal = 4;
    public const ushort VxlanLearning = 7;
    public const ushort VxlanPort = 15;
    public const ushort VxlanLocal6 = 17;
}

internal static class Ifa
{
    public const ushort Address = 1;
    public const ushort Local = 2;
    public const ushort Flags = 8;

    public const uint FlagNoDad = 0x02;
    public const uint FlagPermanent = 0x80;
}

internal static class Rta
{
    public const ushort Dst = 1;
    public const ushort Oif = 4;
    public const ushort Gateway = 5;
    public const ushort Priority = 6;
    public const ushort PrefSrc = 7;
    public const ushort Table = 15;
}

internal static class Nda
{
    public const ushort Dst = 1;
    public const ushort LlAddr = 2;
    public const ushort Master = 9;

    public const byte FlagSelf = 0x02;
    public const byte FlagMaster = 0x04;
}
