using System.Diagnostics.CodeAnalysis;
using System.Net;
using Podnet.Core.Net;

namespace Podnet.Lab.Topology;

/// <summary>
/// A shared "broader network" several labs attach to (<c>lab up --network NAME</c>), and the
/// allocation of its address space among them, with no I/O.
/// </summary>
/// <remarks>
/// The network is one namespace, <c>pn-net-NAME</c>, holding a bridge <c>net0</c> with the
/// network host's addresses (172.19.0.1/24, fd00:172:19::1/64): it stands for the routers
/// and hosts beyond every lab. Each lab's outside host (its gateway) gets a second link,
/// <c>uplink</c>, a veth whose other end <c>to-LAB</c> is a port of <c>net0</c>; the uplink of
/// the lab in slot j has 172.19.0.(10+j) and fd00:172:19::(10+j), and the outside host's
/// default route points at the network host. The network host routes the lab's fabric block
/// (slot j: 172.18.16j.0/20 and fd00:172:18:j0::/60, room for the lab's 16 node subnets) and,
/// for a flat lab, its pod CIDRs to that uplink address. Island and isolated pods never show
/// their addresses on the network (masqueraded or rejected), so those labs may share a pod
/// CIDR; a flat lab's pod CIDR is routed there, so it must overlap no other lab's.
/// Slot 0's fabric is the default 172.18.0.0/24, so the first lab looks like a lab on its own.
/// </remarks>
public static class NetworkPlanner
{
    /// <summary>Labs on one network: one fabric block each.</summary>
    public const int MaxLabs = 16;

    /// <summary>Fabric subnets a lab may use (its node subnets 0..MaxSubnets).</summary>
    public const int SubnetsPerLab = LabPlanner.MaxSubnets + 1;

    public const string Bridge = "net0";
    public const string UplinkInterface = "uplink";
    public const int FirstUplinkOffset = 10;

    public static readonly IPNetwork Subnet = IPNetwork.Parse("172.19.0.0/24");
    public static readonly IPNetwork SubnetV6 = IPNetwork.Parse("fd00:172:19::/64");

    /// <summary>The network host's addresses, both families (labs of either family may join).</summary>
    public static IReadOnlyList<AddressPrefix> HostAddresses => [LabPlanner.Address(Subnet, 1), LabPlanner.Address(SubnetV6, 1)];

    /// <summary>The network host's address in <paramref name="family"/>.</summary>
    public static IPAddress HostAddress(System.Net.Sockets.AddressFamily family) =>
        HostAddresses.First(a => a.Family == family).Address;

    /// <summary>The uplink addresses of the lab in <paramref name="slot"/>, in both families.</summary>
    public static IReadOnlyList<AddressPrefix> UplinkAddresses(int slot) =>
        [LabPlanner.Address(Subnet, FirstUplinkOffset + slot), LabPlanner.Address(SubnetV6, FirstUplinkOffset + slot)];

    /// <summary>The network's namespace: <c>pn-net-NAME</c>.</summary>
    public static string NetnsName(string network) => $"pn-net-{network}";

    /// <summary>The port of lab <paramref name="lab"/>'s uplink on the network's bridge: <c>to-LAB</c> (at most 15 characters).</summary>
    public static string PortName(string lab) => $"to-{lab}";

    /// <summary>The fabric block of <paramref name="slot"/>: 16 subnets from <paramref name="first"/> shifted by 16 subnets a slot.</summary>
    public static IPNetwork FabricBlock(IPNetwork first, int slot)
    {
        var bits = (int)Math.Log2(SubnetsPerLab);
        var shifted = LabPlanner.Shift(first, SubnetsPerLab * slot);
        return new IPNetwork(shifted.BaseAddress, shifted.PrefixLength - bits);
    }

    /// <summary>
    /// The slot of lab <paramref name="request"/> on network <paramref name="network"/>, given the
    /// labs already there: its own slot when it is there already, else <paramref name="preferredSlot"/>
    /// when free, else the lowest free one. Throws <see cref="ArgumentException"/> naming the
    /// other lab and both CIDRs when a flat lab's pod CIDR would overlap another's, or when the
    /// network is full.
    /// </summary>
    public static int Allocate(string network, IReadOnlyList<NetworkAllocation> existing, NetworkAllocation request, int? preferredSlot = null)
    {
        var others = existing.Where(a => a.Lab != request.Lab).ToArray();
        foreach (var other in others)
        {
            if (request.Architecture != "flat" && other.Architecture != "flat")
            {
                continue;
            }
            foreach (var mine in request.PodCidrs.Select(IPNetwork.Parse))
            {
                foreach (var theirs in other.PodCidrs.Select(IPNetwork.Parse).Where(t => IpMath.Overlaps(mine, t)))
                {
                    var flat = request.Architecture == "flat" ? $"lab {request.Lab} is flat" : $"lab {other.Lab} is flat";
                    throw new ArgumentException(
                        $"lab {request.Lab} cannot join network {network}: its pod CIDR {mine} overlaps pod CIDR {theirs} of lab {other.Lab} ({other.Architecture}), " +
                        $"and {flat}, so the network routes its pods by their real addresses; give it another pod CIDR (--pod-cidr) or make both island or isolated");
                }
            }
        }
        if (existing.FirstOrDefault(a => a.Lab == request.Lab) is { } mineAlready)
        {
            return mineAlready.Slot;
        }
        var taken = others.Select(a => a.Slot).ToHashSet();
        if (preferredSlot is { } preferred && preferred is >= 0 and < MaxLabs && !taken.Contains(preferred))
        {
            return preferred;
        }
        for (var slot = 0; slot < MaxLabs; slot++)
        {
            if (!taken.Contains(slot))
            {
                return slot;
            }
        }
        throw new ArgumentException($"network {network} is full: it has {MaxLabs} labs ({string.Join(", ", others.Select(a => a.Lab))})");
    }
}

/// <summary>A lab's place on a network, as the network's state file keeps it.</summary>
/// <param name="Attached">False while the lab is down with its state kept: its slot stays reserved.</param>
public sealed record NetworkAllocation(string Lab, int Slot, string Architecture, IReadOnlyList<string> PodCidrs, bool Attached = true);

/// <summary>A network's name: 1–8 characters of a-z and 0-9, starting with a letter (<c>pn-net-NAME</c> fits 15 characters).</summary>
public static class NetworkName
{
    public const int MaxLength = 8;

    /// <summary>Names a lab's namespaces end with: a network named so would look like a part of the lab named "net".</summary>
    private static readonly string[] s_reserved = ["fabric", "cp", "out", "rtr"];

    public static bool IsValid([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(name))
        {
            error = "a network name must not be empty";
        }
        else if (name.Length > MaxLength)
        {
            error = $"network name '{name}' is {name.Length} characters long; at most {MaxLength} are allowed (its namespace pn-net-{name} must fit 15)";
        }
        else if (name[0] is not (>= 'a' and <= 'z') || name.Any(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9'))))
        {
            error = $"network name '{name}' may contain only a-z and 0-9, and must start with a letter";
        }
        else if (s_reserved.Contains(name) || (name.Length > 1 && name[0] == 'n' && name[1..].All(char.IsAsciiDigit)))
        {
            error = $"network name '{name}' is reserved: pn-net-{name} would read as a namespace of a lab named 'net'";
        }
        return error is null;
    }

    public static string Validate(string? name) =>
        IsValid(name, out var error) ? name : throw new ArgumentException(error);
}
