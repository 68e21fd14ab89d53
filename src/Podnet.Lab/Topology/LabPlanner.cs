using System.Net;
using Podnet.Core.Net;

namespace Podnet.Lab.Topology;

/// <summary>The settings a lab is built from.</summary>
public sealed record LabSpec
{
    public string Name { get; init; } = LabName.Default;

    public int Nodes { get; init; } = 3;

    public IpFamilies IpFamily { get; init; } = IpFamilies.IPv4;

    public IPNetwork FabricSubnet { get; init; } = IPNetwork.Parse("172.18.0.0/24");

    public IPNetwork FabricSubnetV6 { get; init; } = IPNetwork.Parse("fd00:172:18::/64");

    /// <summary>Packet loss in percent (0-100) on a node's fabric link, each direction, by node name.</summary>
    public IReadOnlyDictionary<string, int> LinkLoss { get; init; } = new Dictionary<string, int>();
}

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
        IPNetwork[] subnets = spec.IpFamily switch
        {
            IpFamilies.IPv4 => [spec.FabricSubnet],
            IpFamilies.IPv6 => [spec.FabricSubnetV6],
            _ => [spec.FabricSubnet, spec.FabricSubnetV6],
        };
        var needed = FirstNodeOffset + spec.Nodes + 1;
        foreach (var subnet in subnets)
        {
            if (IpMath.Size(subnet) < (UInt128)needed + 1)
            {
                throw new ArgumentException($"fabric subnet {subnet} is too small for {spec.Nodes} nodes");
            }
        }
        foreach (var (node, loss) in spec.LinkLoss)
        {
            if (!node.StartsWith('n') || !int.TryParse(node.AsSpan(1), out var index) || index < 1 || index > spec.Nodes)
            {
                throw new ArgumentException($"link loss names node '{node}', which the lab does not have (nodes are n1..n{spec.Nodes})");
            }
            if (loss is < 0 or > 100)
            {
                throw new ArgumentException($"link loss on {node} must be a percentage from 0 to 100, not {loss}");
            }
        }
        var outside = Host(name, HostRole.Outside, "outside", "out", subnets, 1, gateways: []);
        var gateways = outside.Addresses.Select(a => a.Address).ToArray();
        var controlPlane = Host(name, HostRole.ControlPlane, "control-plane", "cp", subnets, 2, gateways);
        var nodes = Enumerable.Range(1, spec.Nodes)
            .Select(i => Host(name, HostRole.Node, $"n{i}", $"n{i}", subnets, FirstNodeOffset + i, gateways))
            .ToArray();
        return new LabPlan
        {
            Name = name,
            FabricSubnets = subnets,
            LinkLoss = spec.LinkLoss.Where(l => l.Value > 0).ToDictionary(),
            FabricNetns = NetnsName(name, "fabric"),
            ControlPlane = controlPlane,
            Outside = outside,
            Nodes = nodes,
        };
    }

    /// <summary>The namespace name of a lab's part: <c>pn-NAME-PART</c>.</summary>
    public static string NetnsName(string lab, string part) => $"pn-{lab}-{part}";

    /// <summary>
    /// True when <paramref name="netns"/> is one of lab <paramref name="lab"/>'s namespaces, used to
    /// find what a crashed lab left. Parts never contain '-', so the last '-' separates the lab's
    /// name from the part, and lab "a" never claims lab "a-b"'s namespaces.
    /// </summary>
    public static bool IsLabNetns(string netns, string lab)
    {
        if (!netns.StartsWith("pn-", StringComparison.Ordinal))
        {
            return false;
        }
        var dash = netns.LastIndexOf('-');
        if (dash <= 3 || netns[3..dash] != lab)
        {
            return false;
        }
        var part = netns[(dash + 1)..];
        return part is "fabric" or "cp" or "out" || (part.Length > 1 && part[0] == 'n' && part[1..].All(char.IsAsciiDigit));
    }

    private static HostPlan Host(string lab, HostRole role, string name, string part, IPNetwork[] subnets, int offset, IPAddress[] gateways) =>
        new(role, name, NetnsName(lab, part), part, subnets.Select(s => Address(s, offset)).ToArray(), gateways);

    /// <summary>The host at <paramref name="offset"/>: decimal-looking in IPv6 too (11 → ::11).</summary>
    private static AddressPrefix Address(IPNetwork subnet, int offset)
    {
        var step = subnet.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? offset
            : int.Parse(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return new AddressPrefix(IpMath.Add(subnet.BaseAddress, step), subnet.PrefixLength);
    }
}
