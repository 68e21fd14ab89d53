using System.Net;
using System.Net.Sockets;

namespace Podnet.Core.Nft;

/// <summary>Where a traced packet enters the node's netfilter hooks.</summary>
public enum NftOrigin
{
    /// <summary>Arrives on an interface (from a pod, another node, the outside): prerouting first.</summary>
    Incoming,

    /// <summary>Sent by a process of the node's own namespace: output first.</summary>
    Local,
}

public enum NftCtState
{
    New,
    Established,
    Related,
    Invalid,
}

/// <summary>
/// The fields of a packet the tracer reads: addresses, protocol and ports, its conntrack state
/// (a packet of an established connection skips nat chains, as in the kernel), whether its
/// connection was DNATed, and the packet mark.
/// </summary>
/// <param name="Protocol">tcp, udp, sctp, icmp or icmpv6.</param>
public sealed record NftPacket(
    IPAddress Source,
    IPAddress Destination,
    string Protocol = "tcp",
    int SourcePort = 40000,
    int DestinationPort = 80,
    NftCtState CtState = NftCtState.New,
    bool CtDnat = false,
    bool CtReply = false,
    uint Mark = 0,
    string? InputInterface = null,
    string? OutputInterface = null)
{
    public bool IsIPv6 => Destination.AddressFamily == AddressFamily.InterNetworkV6;

    public static NftPacket Tcp(string source, string destination, int port) => new(IPAddress.Parse(source), IPAddress.Parse(destination), "tcp", 40000, port);

    public static NftPacket Udp(string source, string destination, int port) => new(IPAddress.Parse(source), IPAddress.Parse(destination), "udp", 40000, port);
}

public enum NftVerdictKind
{
    Accept,
    Drop,
    Reject,
}

/// <summary>An element a rule's <c>update</c>/<c>add</c> statement puts in a dynamic set or map.</summary>
public sealed record NftSetUpdate(NftTable Table, string Set, string Key, string? Value);

/// <summary>A rule the trace passed through: which table, chain and rule (0-based), and its text.</summary>
public sealed record NftTracePoint(NftTable Table, string Chain, int Rule, string Text)
{
    public override string ToString() => $"{Table} {Chain} #{Rule}: {Text}";
}

/// <summary>
/// One way the packet can go (a <c>numgen</c> gives one result per branch): the final verdict,
/// the packet as it leaves (after DNAT/SNAT), whether it was masqueraded, the rule that decided
/// (null when the hooks' policies accepted it) and every rule that matched on the way.
/// </summary>
public sealed record NftTraceResult(
    NftVerdictKind Verdict,
    string? RejectWith,
    NftPacket Packet,
    bool Masqueraded,
    IPAddress? SnatTo,
    NftTracePoint? Decided,
    IReadOnlyList<NftTracePoint> Matched,
    IReadOnlyList<NftSetUpdate> SetUpdates,
    IReadOnlyList<int> Choices)
{
    /// <summary>The destination after DNAT as "address:port" (IPv6 in brackets).</summary>
    public string Endpoint => Packet.IsIPv6 ? $"[{Packet.Destination}]:{Packet.DestinationPort}" : $"{Packet.Destination}:{Packet.DestinationPort}";

    public override string ToString() => Verdict switch
    {
        NftVerdictKind.Accept => $"accept {Endpoint}" + (Masqueraded ? " masquerade" : "") + (SnatTo is null ? "" : $" snat {SnatTo}"),
        NftVerdictKind.Reject => "reject" + (RejectWith is null ? "" : " with " + RejectWith),
        _ => "drop",
    };
}
