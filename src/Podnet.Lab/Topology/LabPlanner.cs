using System.Net;
using Podnet.Core.Cluster;
using Podnet.Core.Net;

namespace Podnet.Lab.Topology;

/// <summary>The settings a lab is built from.</summary>
public sealed record LabSpec
{
    public string Name { get; init; } = LabName.Default;

    public int Nodes { get; init; } = 3;

    public IpFamilies IpFamily { get; init; } = IpFamilies.IPv4;

    public RoutingMode Routing { get; init; } = RoutingMode.HostGw;

    public IPNetwork FabricSubnet { get; init; } = IPNetwork.Parse("172.18.0.0/24");

    public IPNetwork FabricSubnetV6 { get; init; } = IPNetwork.Parse("fd00:172:18::/64");

    /// <summary>Packet loss in percent (0-100) on a node's fabric link, each direction, by node name.</summary>
    public IReadOnlyDictionary<string, int> LinkLoss { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// The L3 subnet each node sits in, by node name: 0 (the default) is the fabric subnet with
    /// the control plane and the outside host; subnet k is the k-th subnet after it
    /// (172.18.k.0/24), reached through a router namespace.
    /// </summary>
    public IReadOnlyDictionary<string, int> NodeSubnets { get; init; } = new Dictionary<string, int>();

    public Architecture Architecture { get; init; } = Architecture.Island;

    /// <summary>The cluster's pod CIDRs, one per family of the lab; null for the defaults (10.244.0.0/16, fd00:10:244::/56).</summary>
    public IReadOnlyList<IPNetwork>? PodCidrs { get; init; }

    /// <summary>The shared network the lab is attached to, with its slot there; null for a lab on its own.</summary>
    public NetworkAttachment? Network { get; init; }
}

/// <summary>A lab's place on a shared network: the network's name and the slot allocated to the lab.</summary>
public sealed record NetworkAttachment(string Name, int Slot);

public enum IpFamilies
{
    IPv4,
    IPv6,
    Dual,
}

/// <summary>Turns <see cref="LabSpec"/> into a <see cref="LabPlan"/>.</summary>
/// <remarks>
/// Fabric addresses: the outside host takes the first address (it is the gateway), the control
/// plane the second, and node i the (10 + i)-th, so node addresses read like their names
/// (n1 = .11). The range from .200 up is left for LoadBalancer addresses. IPv6 follows the
/// same reading: n1 is fd00:172:18::11 (offset 0x11), the outside host ::1.
/// </remarks>
public static class LabPlanner
{
    public const string FabricBridge = "fabric0";
    public const int FirstNodeOffset = 10;
    public const int MaxNodes = 100;

    public static LabPlan Build(LabSpec spec)
    {
        var name = LabName.Validate(spec.Name);
        if (spec.Nodes is < 1 or > MaxNodes)
        {
            throw new ArgumentException($"a lab has 1 to {MaxNodes} nodes, not {spec.Nodes}");
        }
        if (spec.Network is { } attachment)
        {
            NetworkName.Validate(attachment.Name);
            if (attachment.Slot is < 0 or >= NetworkPlanner.MaxLabs)
            {
                throw new ArgumentException($"network slot {attachment.Slot} is not from 0 to {NetworkPlanner.MaxLabs - 1}");
            }
        }
        var slot = spec.Network?.Slot ?? 0;
        IPNetwork[] subnets = spec.IpFamily switch
        {
            IpFamilies.IPv4 => [spec.FabricSubnet],
            IpFamilies.IPv6 => [spec.FabricSubnetV6],
            _ => [spec.FabricSubnet, spec.FabricSubnetV6],
        };
        subnets = subnets.Select(s => Shift(s, NetworkPlanner.SubnetsPerLab * slot)).ToArray();
        var needed = FirstNodeOffset + spec.Nodes + 1;
        foreach (var subnet in subnets)
        {
            if (IpMath.Size(subnet) < (UInt128)needed + 1)
            {
                throw new ArgumentException($"fabric subnet {subnet} is too small for {spec.Nodes} nodes");
            }
        }
        ValidatePerNode(spec.LinkLoss, spec.Nodes, "link loss", l => l is >= 0 and <= 100, "a percentage from 0 to 100");
        ValidatePerNode(spec.NodeSubnets, spec.Nodes, "node subnets", k => k is >= 0 and <= MaxSubnets, $"a subnet number from 0 to {MaxSubnets}");
        var subnetCount = spec.NodeSubnets.Values.DefaultIfEmpty(0).Max() + 1;
        var nodeSubnet = Enumerable.Range(1, spec.Nodes).ToDictionary(i => $"n{i}", i => spec.NodeSubnets.GetValueOrDefault($"n{i}"));
        if (spec.Routing == RoutingMode.HostGw && nodeSubnet.Values.Distinct().Count() > 1)
        {
            var apart = string.Join(", ", nodeSubnet.Where(n => n.Value > 0).Select(n => $"{n.Key} is in subnet {n.Value}"));
            throw new ArgumentException($"host-gw routing needs every node in one L2 subnet, but {apart}: use --routing vxlan, which carries pod traffic across routed subnets");
        }
        var fabrics = Enumerable.Range(0, subnetCount)
            .Select(k => new FabricSubnetPlan(k, k == 0 ? FabricBridge : $"fabric{k}", subnets.Select(n => Shift(n, k)).ToArray()))
            .ToArray();
        var outside = Host(name, HostRole.Outside, "outside", "out", fabrics[0], 1, gateways: []);
        var gateways = outside.Addresses.Select(a => a.Address).ToArray();
        var controlPlane = Host(name, HostRole.ControlPlane, "control-plane", "cp", fabrics[0], 2, gateways);
        var router = subnetCount == 1 ? null : Router(name, fabrics, gateways);
        var nodes = Enumerable.Range(1, spec.Nodes).Select(i =>
        {
            var fabric = fabrics[nodeSubnet[$"n{i}"]];
            var nodeGateways = fabric.Index == 0 ? gateways : router!.Ports[fabric.Index].Addresses.Select(a => a.Address).ToArray();
            return Host(name, HostRole.Node, $"n{i}", $"n{i}", fabric, FirstNodeOffset + i, nodeGateways);
        }).ToArray();
        var podCidrs = PodCidrs(spec, subnets);
        return new LabPlan
        {
            Name = name,
            Architecture = spec.Architecture,
            ClusterCidrs = podCidrs,
            LoadBalancerPool = subnets.Select(s => $"{Address(s, LoadBalancerFirst).Address}-{Address(s, LoadBalancerLast).Address}").ToArray(),
            Network = spec.Network is { } network ? Network(name, network, spec, subnets, podCidrs) : null,
            FabricSubnets = subnets,
            Fabrics = fabrics,
            Router = router,
            Routing = spec.Routing,
            IpFamily = spec.IpFamily,
            LinkLoss = spec.LinkLoss.Where(l => l.Value > 0).ToDictionary(),
            FabricNetns = NetnsName(name, "fabric"),
            ControlPlane = controlPlane,
            Outside = outside,
            Nodes = nodes,
        };
    }

    public const int LoadBalancerFirst = 200;
    public const int LoadBalancerLast = 250;

    public static readonly IReadOnlyList<IPNetwork> ServiceCidrs = [IPNetwork.Parse("10.96.0.0/16"), IPNetwork.Parse("fd00:10:96::/112")];

    private static readonly IReadOnlyList<IPNetwork> s_defaultPodCidrs = [IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("fd00:10:244::/56")];

    /// <summary>
    /// The cluster's pod CIDRs, one per family of the lab, in the fabric's order. Each must hold a
    /// /24 (IPv4) or /64 (IPv6) per node, and overlap neither the service CIDRs, the fabric nor a
    /// shared network's own subnet.
    /// </summary>
    private static IPNetwork[] PodCidrs(LabSpec spec, IPNetwork[] fabric)
    {
        var families = fabric.Select(f => f.BaseAddress.AddressFamily).ToArray();
        var given = spec.PodCidrs ?? s_defaultPodCidrs.Where(c => families.Contains(c.BaseAddress.AddressFamily)).ToArray();
        var wanted = string.Join(" and ", families.Select(f => f == System.Net.Sockets.AddressFamily.InterNetwork ? "one IPv4" : "one IPv6"));
        if (given.Count != families.Length || families.Any(f => given.Count(c => c.BaseAddress.AddressFamily == f) != 1))
        {
            throw new ArgumentException($"pod CIDR '{string.Join(',', given)}' does not fit a {spec.IpFamily switch { IpFamilies.IPv4 => "IPv4", IpFamilies.IPv6 => "IPv6", _ => "dual-stack" }} lab: give {wanted} CIDR");
        }
        var taken = ServiceCidrs.Select(c => (c, "the service CIDR"))
            .Concat(fabric.Select(f => (NetworkPlanner.FabricBlock(f, 0), "the lab's fabric")))
            .Concat(new[] { NetworkPlanner.Subnet, NetworkPlanner.SubnetV6 }.Select(c => (c, "the shared network's subnet")));
        var ordered = families.Select(f => given.Single(c => c.BaseAddress.AddressFamily == f)).ToArray();
        foreach (var cidr in ordered)
        {
            var nodeMask = cidr.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 24 : 64;
            if (cidr.PrefixLength > nodeMask || IpMath.Size(cidr) / IpMath.Size(new IPNetwork(cidr.BaseAddress, nodeMask)) < (UInt128)spec.Nodes)
            {
                throw new ArgumentException($"pod CIDR {cidr} is too small: each of the {spec.Nodes} nodes gets a /{nodeMask} of it");
            }
            foreach (var (other, what) in taken.Where(t => IpMath.Overlaps(t.Item1, cidr)))
            {
                throw new ArgumentException($"pod CIDR {cidr} overlaps {what} {other}");
            }
        }
        return ordered;
    }

    /// <summary>The lab's side of a shared network: its uplink and what the network host routes to it.</summary>
    private static NetworkPlan Network(string lab, NetworkAttachment network, LabSpec spec, IPNetwork[] fabric, IPNetwork[] podCidrs)
    {
        var families = fabric.Select(f => f.BaseAddress.AddressFamily).ToArray();
        var routes = fabric.Select(f => NetworkPlanner.FabricBlock(f, 0))
            .Concat(spec.Architecture == Architecture.Flat ? podCidrs : [])
            .ToArray();
        return new NetworkPlan(network.Name, NetworkPlanner.NetnsName(network.Name), network.Slot, NetworkPlanner.PortName(lab),
            NetworkPlanner.UplinkAddresses(network.Slot).Where(a => families.Contains(a.Family)).ToArray(),
            families.Select(NetworkPlanner.HostAddress).ToArray(),
            routes);
    }

    /// <summary>The namespace name of a lab's part: <c>pn-NAME-PART</c>.</summary>
    public static string NetnsName(string lab, string part) => $"pn-{lab}-{part}";

    /// <summary>
    /// True when <paramref name="netns"/> is one of lab <paramref name="lab"/>'s namespaces — its
    /// fabric, router, control plane, outside host, nodes, or a pod on one of its nodes
    /// (<c>pn-LAB-nI-pHASH</c>) — used to find what a crashed lab left. Parts never contain
    /// '-', so reading from the right is unambiguous, and lab "a" never claims lab "a-b"'s.
    /// </summary>
    public static bool IsLabNetns(string netns, string lab)
    {
        if (!netns.StartsWith("pn-", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = netns[3..].Split('-');
        if (parts.Length >= 3 && IsPodPart(parts[^1]) && IsNodePart(parts[^2]))
        {
            return string.Join('-', parts[..^2]) == lab;
        }
        return parts.Length >= 2 && string.Join('-', parts[..^1]) == lab && (parts[^1] is "fabric" or "cp" or "out" or "rtr" || IsNodePart(parts[^1]));
    }

    /// <summary>The prefix of the namespaces of pods on node <paramref name="node"/> of lab <paramref name="lab"/>.</summary>
    public static string PodNetnsPrefix(string lab, string node) => $"pn-{lab}-{node}-p";

    public const int MaxSubnets = 15;
    public const int RouterOffset = 254;

    private static bool IsNodePart(string part) => part.Length > 1 && part[0] == 'n' && part[1..].All(char.IsAsciiDigit);

    private static bool IsPodPart(string part) => part.Length > 1 && part[0] == 'p' && part[1..].All(char.IsAsciiLetterOrDigit);

    private static HostPlan Host(string lab, HostRole role, string name, string part, FabricSubnetPlan fabric, int offset, IPAddress[] gateways) =>
        new(role, name, NetnsName(lab, part), part, fabric.Networks.Select(s => Address(s, offset)).ToArray(), gateways) { Bridge = fabric.Bridge };

    /// <summary>The router joining the node subnets: .254 on subnet 0 (its default route is the outside host), .1 on every other.</summary>
    private static RouterPlan Router(string lab, FabricSubnetPlan[] fabrics, IPAddress[] gateways) =>
        new(NetnsName(lab, "rtr"),
            fabrics.Select(f => new RouterPort(f.Bridge, $"r{f.Index}", $"eth{f.Index}", f.Networks.Select(n => Address(n, f.Index == 0 ? RouterOffset : 1)).ToArray())).ToArray(),
            gateways);

    /// <summary>Subnet <paramref name="index"/> after <paramref name="network"/> (172.18.0.0/24, 2 → 172.18.2.0/24).</summary>
    internal static IPNetwork Shift(IPNetwork network, int index) =>
        new(IpMath.Add(network.BaseAddress, (Int128)IpMath.Size(network) * index), network.PrefixLength);

    private static void ValidatePerNode(IReadOnlyDictionary<string, int> values, int nodes, string what, Func<int, bool> valid, string expected)
    {
        foreach (var (node, value) in values)
        {
            if (!node.StartsWith('n') || !int.TryParse(node.AsSpan(1), out var index) || index < 1 || index > nodes)
            {
                throw new ArgumentException($"{what} names node '{node}', which the lab does not have (nodes are n1..n{nodes})");
            }
            if (!valid(value))
            {
                throw new ArgumentException($"{what} for {node} must be {expected}, not {value}");
            }
        }
    }

    /// <summary>The host at <paramref name="offset"/>: decimal-looking in IPv6 too (11 → ::11).</summary>
    internal static AddressPrefix Address(IPNetwork subnet, int offset)
    {
        var step = subnet.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? offset
            : int.Parse(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return new AddressPrefix(IpMath.Add(subnet.BaseAddress, step), subnet.PrefixLength);
    }
}
