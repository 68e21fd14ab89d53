using System.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Lab.Topology;

/// <summary>
/// Makes a shared network real: its namespace with the bridge and the network host's
/// addresses, and each lab's uplink into it. Called under the network's lock for everything
/// but the uplink, which only the lab's own `lab up` makes (its record is there already, so no
/// other lab removes the namespace meanwhile).
/// </summary>
public static class NetworkBuilder
{
    /// <summary>The network's namespace, made with its bridge and addresses unless it exists.</summary>
    public static void Ensure(string network)
    {
        var name = NetworkPlanner.NetnsName(NetworkName.Validate(network));
        if (Netns.Exists(name))
        {
            return;
        }
        try
        {
            using var netns = Netns.Create(name);
            using var rt = RtNetlink.Open(netns);
            rt.SetUp("lo");
            rt.CreateBridge(NetworkPlanner.Bridge);
            foreach (var address in NetworkPlanner.HostAddresses)
            {
                rt.AddAddress(NetworkPlanner.Bridge, address);
            }
            rt.SetUp(NetworkPlanner.Bridge);
            Sysctl.Set(netns, [new("net.ipv4.ip_forward", "1"), new("net.ipv6.conf.all.forwarding", "1")]);
        }
        catch
        {
            Netns.Delete(name);
            throw;
        }
    }

    /// <summary>Removes the network's namespace; true when it was there.</summary>
    public static bool Delete(string network) => Netns.Delete(NetworkPlanner.NetnsName(NetworkName.Validate(network)));

    /// <summary>
    /// The lab's uplink: a veth from the network's bridge into the outside host, its addresses,
    /// the outside host's default routes to the network host, and the network host's routes to
    /// the lab (replacing any a crashed lab in the same slot left).
    /// </summary>
    public static void Attach(LabPlan plan)
    {
        var network = plan.Network ?? throw new ArgumentException($"lab {plan.Name} has no network");
        using var netns = Netns.Open(network.Netns);
        using var rt = RtNetlink.Open(netns);
        using var outside = Netns.Open(plan.Outside.Netns);
        using var outsideRt = RtNetlink.Open(outside);
        rt.DeleteLink(network.Port);
        rt.CreateVeth(network.Port, NetworkPlanner.UplinkInterface, outside);
        rt.SetMaster(network.Port, NetworkPlanner.Bridge);
        rt.SetUp(network.Port);
        foreach (var address in network.UplinkAddresses)
        {
            outsideRt.AddAddress(NetworkPlanner.UplinkInterface, address);
        }
        outsideRt.SetUp(NetworkPlanner.UplinkInterface);
        var uplink = outsideRt.IndexOf(NetworkPlanner.UplinkInterface);
        foreach (var gateway in network.Gateways)
        {
            var any = gateway.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
            outsideRt.AddRoute(new RouteInfo { Destination = new IPNetwork(any, 0), Gateway = gateway, LinkIndex = uplink });
        }
        foreach (var route in network.Routes)
        {
            var via = network.UplinkAddresses.First(a => a.Family == route.BaseAddress.AddressFamily).Address;
            rt.ReplaceRoute(new RouteInfo { Destination = route, Gateway = via });
        }
    }

    /// <summary>Removes the network host's routes through the uplink of <paramref name="slot"/> (the veth goes with the lab's outside namespace).</summary>
    public static void Detach(string network, string lab, int slot)
    {
        var name = NetworkPlanner.NetnsName(network);
        if (!Netns.Exists(name))
        {
            return;
        }
        using var netns = Netns.Open(name);
        using var rt = RtNetlink.Open(netns);
        var gateways = NetworkPlanner.UplinkAddresses(slot).Select(a => a.Address).ToHashSet();
        foreach (var route in rt.GetRoutes().Where(r => r.Gateway is { } g && gateways.Contains(g)))
        {
            rt.DeleteRoute(route);
        }
        rt.DeleteLink(NetworkPlanner.PortName(lab));
    }
}
