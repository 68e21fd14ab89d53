using System.Net;
using Podnet.Core.Cluster;
using Podnet.Core.Net;

namespace Podnet.Lab.Topology;

/// <summary>What a lab is made of, computed from its settings with no I/O.</summary>
/// <remarks>
/// Every namespace is <c>pn-NAME-ROLE</c>. Each host (control plane, outside, node) has one
/// veth: <c>eth0</c> in its own namespace, and a port named after its role on the fabric
/// bridge, which lives in the fabric namespace. No link of the lab ever touches the root
/// namespace, so no lab packet can leave the machine.
/// </remarks>
public sealed record LabPlan
{
    public required string Name { get; init; }

    /// <summary>The fabric's subnets, one per IP family the lab runs (IPv4 first).</summary>
    public required IReadOnlyList<IPNetwork> FabricSubnets { get; init; }

    public IPNetwork FabricSubnet => FabricSubnets[0];

    /// <summary>Packet loss in percent on a node's fabric link, each direction, by node name.</summary>
    public IReadOnlyDictionary<string, int> LinkLoss { get; init; } = new Dictionary<string, int>();

    /// <summary>The fabric namespace, holding only the bridge that joins every host.</summary>
    public required string FabricNetns { get; init; }

    public required HostPlan ControlPlane { get; init; }

    /// <summary>The host that stands for the broader network; every host's default gateway.</summary>
    public required HostPlan Outside { get; init; }

    public required IReadOnlyList<HostPlan> Nodes { get; init; }

    /// <summary>The fabric's L2 segments: subnet 0 always, more when nodes sit in other subnets.</summary>
    public IReadOnlyList<FabricSubnetPlan> Fabrics { get; init; } = [];

    public RoutingMode Routing { get; init; } = RoutingMode.HostGw;

    public IpFamilies IpFamily { get; init; } = IpFamilies.IPv4;

    public Architecture Architecture { get; init; } = Architecture.Island;

    /// <summary>The cluster's pod CIDRs, in the order of <see cref="FabricSubnets"/>' families.</summary>
    public IReadOnlyList<IPNetwork> ClusterCidrs { get; init; } = [];

    /// <summary>LoadBalancer addresses, one range per family: .200–.250 of the lab's first fabric subnet.</summary>
    public IReadOnlyList<string> LoadBalancerPool { get; init; } = [];

    /// <summary>The lab's attachment to a shared network, when it has one.</summary>
    public NetworkPlan? Network { get; init; }

    /// <summary>The router joining the subnets, when there is more than one.</summary>
    public RouterPlan? Router { get; init; }

    public IEnumerable<HostPlan> Hosts => [ControlPlane, Outside, .. Nodes];

    /// <summary>Every namespace the lab makes, fabric first (it must exist before the hosts attach).</summary>
    public IEnumerable<string> Namespaces => [FabricNetns, .. Router is null ? [] : new[] { Router.Netns }, .. Hosts.Select(h => h.Netns)];
}

public enum HostRole
{
    ControlPlane,
    Outside,
    Node,
}

/// <summary>One host on the fabric: a namespace with <c>eth0</c> and an address in each fabric subnet.</summary>
/// <param name="Name">The host's name: the node name for nodes ("n1"), else the role.</param>
/// <param name="FabricPort">The name of its veth end on the fabric bridge (in the fabric namespace).</param>
/// <param name="Addresses">One per fabric subnet, in the same order.</param>
/// <param name="Gateways">Its default gateways (one per family); none for the outside host, which has no route beyond the fabric.</param>
public sealed record HostPlan(HostRole Role, string Name, string Netns, string FabricPort, IReadOnlyList<AddressPrefix> Addresses, IReadOnlyList<IPAddress> Gateways)
{
    /// <summary>The first address (IPv4 in a dual-stack lab).</summary>
    public AddressPrefix Address => Addresses[0];

    /// <summary>The fabric bridge (in the fabric namespace) its link is a port of.</summary>
    public string Bridge { get; init; } = LabPlanner.FabricBridge;
}

/// <summary>One L2 segment of the fabric: its bridge and its subnet per family.</summary>
public sealed record FabricSubnetPlan(int Index, string Bridge, IReadOnlyList<IPNetwork> Networks);

/// <summary>A router namespace with one port on each fabric segment.</summary>
/// <param name="Gateways">Its default route: the outside host.</param>
public sealed record RouterPlan(string Netns, IReadOnlyList<RouterPort> Ports, IReadOnlyList<IPAddress> Gateways);

/// <param name="FabricPort">Its veth end on <paramref name="Bridge"/>, in the fabric namespace.</param>
/// <param name="Interface">Its name in the router's namespace.</param>
public sealed record RouterPort(string Bridge, string FabricPort, string Interface, IReadOnlyList<AddressPrefix> Addresses);

/// <summary>A lab's attachment to a shared network (see <see cref="NetworkPlanner"/>).</summary>
/// <param name="Port">The uplink's end on the network's bridge, in the network's namespace.</param>
/// <param name="UplinkAddresses">The outside host's addresses on the network, one per family of the lab.</param>
/// <param name="Gateways">The network host's addresses: the outside host's default routes.</param>
/// <param name="Routes">What the network host routes to the uplink: the lab's fabric block, and its pod CIDRs when flat.</param>
public sealed record NetworkPlan(string Name, string Netns, int Slot, string Port, IReadOnlyList<AddressPrefix> UplinkAddresses, IReadOnlyList<IPAddress> Gateways, IReadOnlyList<IPNetwork> Routes);
