using System.Net;
using Podnet.Core.Net;

namespace Podnet.Lab.Topology;

/// <summary>The settings a lab is built from.</summary>
public sealed record LabSpec
{
    public string Name { get; init; } = LabName.Default;

    public int Nodes { get; init; } = 3;

    public IPNetwork FabricSubnet { get; init; } = IPNetwork.Parse("172.18.0.0/24");
}

/// <summary>Turns <see cref="LabSpec"/> into a <see cref="LabPlan"/>.</summary>
/// <remarks>
/// Fabric addresses: the outside host takes the first address (it is the gateway), the control
/// plane the second, and node i the (10 + i)-th, so node addresses read like their names
/// (n1 = .11). The range from .200 up is left for LoadBalancer addresses.
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
        var subnet = spec.FabricSubnet;
        var needed = FirstNodeOffset + spec.Nodes + 1;
        if (IpMath.Size(subnet) < (UInt128)needed + 1)
        {
            throw new ArgumentException($"fabric subnet {subnet} is too small for {spec.Nodes} nodes");
        }
        var outside = Host(name, HostRole.Outside, "outside", "out", subnet, 1, gateway: null);
        var gateway = outside.Address.Address;
        var controlPlane = Host(name, HostRole.ControlPlane, "control-plane", "cp", subnet, 2, gateway);
        var nodes = Enumerable.Range(1, spec.Nodes)
            .Select(i => Host(name, HostRole.Node, $"n{i}", $"n{i}", subnet, FirstNodeOffset + i, gateway))
            .ToArray();
        return new LabPlan
        {
            Name = name,
            FabricSubnet = subnet,
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

    private static HostPlan Host(string lab, HostRole role, string name, string part, IPNetwork subnet, int offset, IPAddress? gateway) =>
        new(role, name, NetnsName(lab, part), part, new AddressPrefix(IpMath.Add(subnet.BaseAddress, offset), subnet.PrefixLength), gateway);
}
