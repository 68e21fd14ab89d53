namespace Podnet.Core.Nft;

/// <summary>An nftables address family; rendered in lower case as nft spells it.</summary>
public enum NftFamily
{
    Ip,
    Ip6,
    Inet,
    Bridge,
    Arp,
    Netdev,
}

/// <summary>A table: the unit of ownership. Every Podnet component owns its own tables.</summary>
public sealed record NftTable(NftFamily Family, string Name)
{
    public override string ToString() => $"{NftText.Family(Family)} {Name}";
}

public enum NftChainType
{
    Filter,
    Nat,
    Route,
}

public enum NftHook
{
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
    Ingress,
}

/// <summary>
/// What makes a chain a base chain: its type, hook and a numeric priority (nft 1.0.6 accepts
/// named priorities such as <c>dstnat</c> only on some hooks, so Podnet never writes names).
/// </summary>
/// <param name="DropPolicy">True for <c>policy drop</c>; nft's default is accept.</param>
public sealed record NftHookSpec(NftChainType Type, NftHook Hook, int Priority, bool DropPolicy = false);

/// <summary>A chain; with <see cref="Hook"/> a base chain the kernel calls, else a regular one reached by jump/goto.</summary>
public sealed record NftChain(string Name, NftHookSpec? Hook = null, string? Comment = null);

[Flags]
public enum NftSetFlags
{
    None = 0,
    Interval = 1,
    Timeout = 2,
    Dynamic = 4,
    Constant = 8,
}

/// <summary>
/// A named set, or a map when <see cref="Value"/> is given ("verdict" makes it a verdict map).
/// Types are nft's type expressions ("ipv4_addr", "ipv4_addr . inet_proto . inet_service"), or
/// with <see cref="TypeOf"/> nft's <c>typeof</c> expressions ("ip daddr . th dport").
/// </summary>
public sealed record NftSet(
    string Name,
    string Type,
    string? Value = null,
    NftSetFlags Flags = NftSetFlags.None,
    TimeSpan? Timeout = null,
    bool AutoMerge = false,
    bool TypeOf = false,
    string? Comment = null)
{
    public bool IsMap => Value is not null;

    public bool IsVerdictMap => Value == "verdict";
}

/// <summary>
/// A rule: nft's rule text as nft itself prints it (so a listing of the kernel reads the same),
/// appended to <see cref="Chain"/>.
/// </summary>
public sealed record NftRule(string Chain, string Text, string? Comment = null);

/// <summary>
/// An element of a set or map: the key as nft writes it ("10.96.0.1 . tcp . 80",
/// "10.244.0.0/16"), the value for maps ("goto svc-x", "10.244.1.5 . 8080").
/// </summary>
public sealed record NftElement(string Set, string Key, string? Value = null, TimeSpan? Timeout = null, string? Comment = null);
