using System.Net;
using Podnet.Cni.Config;
using Podnet.Cni.Plan;
using Podnet.Cni.Spec;
using Podnet.Core.Net;
using Podnet.Kernel.Netlink;

namespace Podnet.Cni.Commands;

/// <summary>CHECK: the container interface, its addresses and routes, the host veth and bridge match prevResult.</summary>
internal static class AttachmentChecker
{
    /// <summary>Checks the kernel against prevResult; returns this attachment's addresses in it (for the IPAM check).</summary>
    public static IReadOnlyList<IPAddress> Check(PluginConfig config, CniEnvironment env, CniResult previous)
    {
        using var container = ContainerNamespace.TryOpen(env.NetnsPath!)
            ?? throw new CniException(CniErrorCode.UnknownContainer, $"CNI_NETNS={env.NetnsPath} does not exist");
        using var pod = RtNetlink.Open(container);
        var link = pod.FindLink(env.IfName) ?? throw Failed($"interface {env.IfName} is missing from {env.NetnsPath}");
        // prevResult may hold other plugins' interfaces, ips and routes (a chain): only ours are checked.
        var index = AttachmentPlanner.ContainerInterfaceIndex(previous, env.IfName, env.NetnsPath);
        if (index < 0)
        {
            throw Failed($"prevResult has no interface {env.IfName} in sandbox {env.NetnsPath}");
        }
        if (previous.Interfaces![index].Mac is { } mac && MacAddress.TryParse(mac, out var expected) && link.Mac != expected)
        {
            throw Failed($"interface {env.IfName} has MAC {link.Mac}, prevResult says {mac}");
        }
        if (!link.Up)
        {
            throw Failed($"interface {env.IfName} in {env.NetnsPath} is down");
        }
        var ownIps = AttachmentPlanner.OwnIps(previous, env.IfName, env.NetnsPath);
        if (ownIps.Count == 0)
        {
            throw Failed($"prevResult has no address on interface {env.IfName} (index {index})");
        }
        var ownPrefixes = ownIps.Select(ip => AddressPrefix.Parse(ip.Address)).ToArray();
        var present = pod.GetAddresses(link.Index).Select(a => a.Prefix).ToHashSet();
        foreach (var prefix in ownPrefixes)
        {
            if (!present.Contains(prefix))
            {
                throw Failed($"address {prefix} is missing from {env.IfName} in {env.NetnsPath}");
            }
        }
        var routes = pod.GetRoutes(System.Net.Sockets.AddressFamily.InterNetwork).Concat(pod.GetRoutes(System.Net.Sockets.AddressFamily.InterNetworkV6)).ToArray();
        foreach (var route in previous.Routes ?? [])
        {
            var dst = AddressPrefix.Parse(route.Dst).Network;
            var gw = route.Gw is null ? null : IPAddress.Parse(route.Gw);
            if (gw is not null && !ownPrefixes.Any(p => p.Network.Contains(gw)))
            {
                continue; // via another plugin's interface
            }
            if (!routes.Any(r => r.Destination.Equals(dst) && (gw is null || gw.Equals(r.Gateway))))
            {
                throw Failed($"route {route.Dst}{(gw is null ? "" : $" via {gw}")} is missing in {env.NetnsPath}");
            }
        }
        using var host = RtNetlink.OpenInCurrentNamespace();
        var bridge = host.FindLink(config.Bridge) ?? throw Failed($"bridge {config.Bridge} is missing");
        var hostVeth = AttachmentPlanner.HostVethName(config.Name, env.ContainerId, env.IfName);
        var veth = host.FindLink(hostVeth) ?? throw Failed($"host interface {hostVeth} is missing");
        var listed = (previous.Interfaces ?? []).FirstOrDefault(i => i.Name == hostVeth && string.IsNullOrEmpty(i.Sandbox))
            ?? throw Failed($"prevResult does not list the host interface {hostVeth}");
        if (listed.Mac is { } hostMac && MacAddress.TryParse(hostMac, out var expectedHost) && veth.Mac != expectedHost)
        {
            throw Failed($"host interface {hostVeth} has MAC {veth.Mac}, prevResult says {hostMac}");
        }
        if (veth.MasterIndex != bridge.Index)
        {
            throw Failed($"host interface {hostVeth} is not a port of bridge {config.Bridge}");
        }
        if (config.HairpinMode && veth.BridgePort is { Hairpin: false })
        {
            throw Failed($"host interface {hostVeth} lost hairpin mode");
        }
        if (config.IsGateway)
        {
            var onBridge = host.GetAddresses(bridge.Index).Select(a => a.Prefix.Address).ToHashSet();
            foreach (var gw in ownIps.Where(ip => ip.Gateway is not null).Select(ip => IPAddress.Parse(ip.Gateway!)))
            {
                if (!onBridge.Contains(gw))
                {
                    throw Failed($"gateway {gw} is missing from bridge {config.Bridge}");
                }
            }
        }
        if (config.IpMasq)
        {
            CheckMasquerade(config.Name, ownPrefixes);
        }
        return ownPrefixes.Select(p => p.Address).ToArray();
    }

    /// <summary>Each pod address must be an element of its family's set (nft get element fails otherwise).</summary>
    private static void CheckMasquerade(string network, IEnumerable<AddressPrefix> addresses)
    {
        using var self = Podnet.Kernel.Netns.OpenCurrent();
        var table = MasqueradeRules.TableName(network);
        foreach (var a in addresses)
        {
            var set = a.IsIPv4 ? "pods4" : "pods6";
            var result = Podnet.Kernel.ProcessRunner.Run(self, Podnet.Kernel.Nft.Binary, ["get", "element", "inet", table, set, $"{{ {a.Address} }}"]);
            if (!result.Success)
            {
                throw Failed($"masquerade for {a.Address} is missing from set {set} of table inet {table}: {result.StandardError.Trim()}");
            }
        }
    }

    private static CniException Failed(string message) => new(CniErrorCode.CheckFailed, message);
}
