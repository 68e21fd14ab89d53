using System.Net;
using System.Net.Sockets;
using Podnet.Core.Nft;

namespace Podnet.Proxy;

/// <summary>
/// What the proxy's plan depends on besides Services and EndpointSlices: the address family
/// its table serves, this node's name (for Local traffic policies) and primary addresses
/// (NodePorts are served on these only, never on 127.0.0.1), the pod CIDRs (traffic from
/// elsewhere to a ClusterIP is masqueraded) and the service CIDRs (an unallocated address in
/// them is dropped).
/// </summary>
public sealed record ProxyNode(
    AddressFamily Family,
    string NodeName,
    IReadOnlyList<IPAddress> NodeIPs,
    IReadOnlyList<IPNetwork> ClusterCidrs,
    IReadOnlyList<IPNetwork> ServiceCidrs)
{
    /// <summary>This node's topology.kubernetes.io/zone label, for EndpointSlice zone hints (trafficDistribution).</summary>
    public string? Zone { get; init; }

    public bool IsIPv6 => Family == AddressFamily.InterNetworkV6;

    /// <summary>"ip" or "ip6": the family's keyword in matches and in NAT statements.</summary>
    public string Ip => IsIPv6 ? "ip6" : "ip";

    /// <summary>nft's address type for the family.</summary>
    public string AddressType => IsIPv6 ? "ipv6_addr" : "ipv4_addr";

    public NftTable Table => new(IsIPv6 ? NftFamily.Ip6 : NftFamily.Ip, ProxyNames.Table);

    public bool Holds(IPAddress address) => address.AddressFamily == Family;

    /// <summary>This node's view restricted to one family (the other family's table has its own).</summary>
    public static ProxyNode For(AddressFamily family, string nodeName, IEnumerable<IPAddress> nodeIPs, IEnumerable<IPNetwork> clusterCidrs, IEnumerable<IPNetwork> serviceCidrs) => new(
        family,
        nodeName,
        nodeIPs.Where(a => a.AddressFamily == family).ToArray(),
        clusterCidrs.Where(c => c.BaseAddress.AddressFamily == family).ToArray(),
        serviceCidrs.Where(c => c.BaseAddress.AddressFamily == family).ToArray());
}
