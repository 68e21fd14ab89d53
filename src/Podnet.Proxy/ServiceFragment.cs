using Podnet.Core.Nft;

namespace Podnet.Proxy;

/// <summary>An element of one of the skeleton's maps or sets.</summary>
public readonly record struct ElementSpec(string Set, string Key, string? Value = null);

/// <summary>A regular chain with its rules.</summary>
public sealed record ChainSpec(string Name, IReadOnlyList<string> Rules)
{
    public bool SameAs(ChainSpec other) => Name == other.Name && Rules.SequenceEqual(other.Rules);
}

/// <summary>
/// One Service's part of the ruleset: its elements in the shared maps, the chains and sets it
/// owns alone (ClientIP affinity only), and the shared chains, maps and elements it needs
/// (counted by reference: the balance chain of its endpoint count, the slot chains and maps
/// below it, the hairpin element of each endpoint).
/// A change to the Service or its endpoints replaces its fragment and touches nothing else.
/// </summary>
public sealed record ServiceFragment(
    IReadOnlyList<ElementSpec> Elements,
    IReadOnlyList<ChainSpec> Chains,
    IReadOnlyList<NftSet> Sets,
    IReadOnlyList<ChainSpec> SharedChains,
    IReadOnlyList<NftSet> SharedSets,
    IReadOnlyList<ElementSpec> SharedElements,
    IReadOnlyList<UdpPort> UdpPorts)
{
    public static readonly ServiceFragment Empty = new([], [], [], [], [], [], []);
}

/// <summary>
/// A UDP destination the Service answers on (a ClusterIP and port, or a NodePort with no
/// address) and the addresses serving it: conntrack entries towards it from anything else are
/// stale once a sync commits.
/// </summary>
public sealed record UdpPort(System.Net.IPAddress? Address, int Port, IReadOnlySet<System.Net.IPAddress> Serving)
{
    public bool SameAs(UdpPort other) => Equals(Address, other.Address) && Port == other.Port && Serving.SetEquals(other.Serving);
}
