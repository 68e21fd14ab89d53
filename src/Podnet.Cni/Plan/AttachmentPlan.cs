using System.Net;
using System.Net.Sockets;
using Podnet.Cni.Config;
using Podnet.Cni.Spec;
using Podnet.Core.Net;

namespace Podnet.Cni.Plan;

/// <summary>Everything an ADD makes, decided before touching the kernel.</summary>
internal sealed record AttachmentPlan
{
    public required string Bridge { get; init; }
    public int Mtu { get; init; }
    public bool Promisc { get; init; }
    public bool ForceAddress { get; init; }
    public int Vlan { get; init; }
    public bool PreserveDefaultVlan { get; init; }
    public required string HostVeth { get; init; }
    public required string ContainerIf { get; init; }
    public required string NetnsPath { get; init; }
    public MacAddress? ContainerMac { get; init; }
    public bool Hairpin { get; init; }
    public bool NoDad { get; init; }
    public required IReadOnlyList<AddressPrefix> ContainerAddresses { get; init; }

    /// <summary>Routes inside the container, through <see cref="ContainerIf"/>.</summary>
    public required IReadOnlyList<PlannedRoute> ContainerRoutes { get; init; }

    /// <summary>Gateway addresses for the bridge (isGateway).</summary>
    public required IReadOnlyList<AddressPrefix> BridgeAddresses { get; init; }

    /// <summary>Sysctls to set in the host namespace (forwarding when the bridge is a gateway).</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> HostSysctls { get; init; }

    /// <summary>Masquerade for the pod's addresses, or null without ipMasq.</summary>
    public MasqueradePlan? Masquerade { get; init; }

    /// <summary>The IPAM result this plan was made from, to build the ADD result.</summary>
    public required CniResult Ipam { get; init; }
}

internal sealed record PlannedRoute(IPNetwork Destination, IPAddress? Gateway);

/// <summary>One network's masquerade: traffic from <see cref="Sources"/> to outside <see cref="LocalNetworks"/>.</summary>
internal sealed record MasqueradePlan(string NetworkName, IReadOnlyList<IPAddress> Sources, IReadOnlyList<IPNetwork> LocalNetworks);

internal static class AttachmentPlanner
{
    /// <summary>The host-side veth name: stable for (network, container, interface), so DEL finds it without the netns.</summary>
    public static string HostVethName(string network, string containerId, string ifName) =>
        StableName.Derive("veth", $"{network}/{containerId}/{ifName}", 8);

    public static AttachmentPlan Build(PluginConfig config, CniEnvironment env, CniResult ipam)
    {
        var addresses = (ipam.Ips ?? []).Select(ip => ParsePrefix(ip.Address)).ToArray();
        if (addresses.Length == 0)
        {
            throw new CniException(CniErrorCode.InvalidConfig, $"IPAM plugin {config.IpamType} returned no address");
        }
        var gateways = (ipam.Ips ?? []).Where(ip => ip.Gateway is not null)
            .Select(ip => (Prefix: ParsePrefix(ip.Address), Gateway: IPAddress.Parse(ip.Gateway!))).ToArray();
        IPAddress? GatewayFor(AddressFamily family) => gateways.FirstOrDefault(g => g.Gateway.AddressFamily == family).Gateway;

        var routes = new List<PlannedRoute>();
        foreach (var r in ipam.Routes ?? [])
        {
            var dst = ParsePrefix(r.Dst).Network;
            var gw = r.Gw is null ? GatewayFor(dst.BaseAddress.AddressFamily) : IPAddress.Parse(r.Gw);
            routes.Add(new PlannedRoute(dst, gw));
        }
        if (config.IsDefaultGateway)
        {
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                var gw = GatewayFor(family);
                var any = family == AddressFamily.InterNetwork ? new IPNetwork(IPAddress.Any, 0) : new IPNetwork(IPAddress.IPv6Any, 0);
                if (gw is not null && !routes.Any(r => r.Destination.Equals(any)))
                {
                    routes.Add(new PlannedRoute(any, gw));
                }
            }
        }
        var sysctls = new List<KeyValuePair<string, string>>();
        if (config.IsGateway && gateways.Any(g => g.Gateway.AddressFamily == AddressFamily.InterNetwork))
        {
            sysctls.Add(new("net.ipv4.ip_forward", "1"));
        }
        if (config.IsGateway && gateways.Any(g => g.Gateway.AddressFamily == AddressFamily.InterNetworkV6))
        {
            sysctls.Add(new("net.ipv6.conf.all.forwarding", "1"));
        }
        return new AttachmentPlan
        {
            Bridge = config.Bridge,
            Mtu = config.Mtu,
            Promisc = config.PromiscMode,
            ForceAddress = config.ForceAddress,
            Vlan = config.Vlan,
            PreserveDefaultVlan = config.PreserveDefaultVlan,
            HostVeth = HostVethName(config.Name, env.ContainerId, env.IfName),
            ContainerIf = env.IfName,
            NetnsPath = env.NetnsPath!,
            ContainerMac = config.Mac,
            Hairpin = config.HairpinMode,
            NoDad = !config.EnableDad,
            ContainerAddresses = addresses,
            ContainerRoutes = routes,
            BridgeAddresses = config.IsGateway ? gateways.Select(g => new AddressPrefix(g.Gateway, g.Prefix.PrefixLength)).Distinct().ToArray() : [],
            HostSysctls = sysctls,
            Masquerade = config.IpMasq ? new MasqueradePlan(config.Name, addresses.Select(a => a.Address).ToArray(), addresses.Select(a => a.Network).Distinct().ToArray()) : null,
            Ipam = ipam,
        };
    }

    /// <summary>
    /// The ADD result: bridge, host veth and container interface, with the addresses on the
    /// container interface. In a chain (<paramref name="previous"/> = prevResult) the previous
    /// plugins' interfaces, ips, routes and dns come first and stay as they were; ours are
    /// appended, so our ips point at the container interface's index after them (spec 1.1,
    /// section 5: a chained plugin outputs prevResult plus its own changes).
    /// </summary>
    public static CniResult BuildResult(AttachmentPlan plan, PluginConfig config, LinkFacts facts, CniResult? previous = null)
    {
        var interfaces = new List<CniInterface>(previous?.Interfaces ?? [])
        {
            new CniInterface { Name = plan.Bridge, Mac = facts.BridgeMac?.ToString() },
            new CniInterface { Name = plan.HostVeth, Mac = facts.HostVethMac?.ToString() },
            new CniInterface { Name = plan.ContainerIf, Mac = facts.ContainerMac?.ToString(), Mtu = facts.ContainerMtu, Sandbox = plan.NetnsPath },
        };
        var containerIndex = interfaces.Count - 1;
        var ips = new List<CniIpConfig>(previous?.Ips ?? []);
        ips.AddRange((plan.Ipam.Ips ?? []).Select(ip => new CniIpConfig { Address = ip.Address, Gateway = ip.Gateway, Interface = containerIndex }));
        var routes = new List<CniRoute>(previous?.Routes ?? []);
        foreach (var r in plan.ContainerRoutes.Select(r => new CniRoute { Dst = r.Destination.ToString(), Gw = r.Gateway?.ToString() }))
        {
            if (!routes.Any(p => p.Dst == r.Dst && p.Gw == r.Gw))
            {
                routes.Add(r);
            }
        }
        var dns = config.Dns is { IsEmpty: false } ? config.Dns
            : plan.Ipam.Dns is { IsEmpty: false } ? plan.Ipam.Dns
            : previous?.Dns;
        return new CniResult { CniVersion = config.Version, Interfaces = interfaces, Ips = ips, Routes = routes, Dns = dns };
    }

    /// <summary>
    /// The index in <paramref name="result"/> of this attachment's container interface (named
    /// <paramref name="ifName"/>; its sandbox, when the result gives one, must be
    /// <paramref name="netnsPath"/> when that is known), or -1. The last match wins: ours is appended.
    /// </summary>
    public static int ContainerInterfaceIndex(CniResult result, string ifName, string? netnsPath) =>
        (result.Interfaces ?? []).FindLastIndex(i => i.Name == ifName && (string.IsNullOrEmpty(i.Sandbox) || string.IsNullOrEmpty(netnsPath) || i.Sandbox == netnsPath));

    /// <summary>
    /// The ips of <paramref name="result"/> that belong to this attachment: those on its container
    /// interface, or every ip when the result names no interfaces (an abbreviated IPAM result).
    /// </summary>
    public static IReadOnlyList<CniIpConfig> OwnIps(CniResult result, string ifName, string? netnsPath)
    {
        if (result.Interfaces is null or { Count: 0 })
        {
            return result.Ips ?? [];
        }
        var index = ContainerInterfaceIndex(result, ifName, netnsPath);
        return index < 0 ? [] : (result.Ips ?? []).Where(ip => ip.Interface == index).ToList();
    }

    private static AddressPrefix ParsePrefix(string text) =>
        AddressPrefix.TryParse(text, out var p) ? p : throw new CniException(CniErrorCode.DecodeFailure, $"'{text}' in the IPAM result is not an address with a prefix length");
}

/// <summary>What the kernel assigned while applying (MACs, MTU), for the result.</summary>
internal sealed record LinkFacts(MacAddress? BridgeMac, MacAddress? HostVethMac, MacAddress? ContainerMac, int ContainerMtu);
