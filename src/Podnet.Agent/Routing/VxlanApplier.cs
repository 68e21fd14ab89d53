using System.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Agent.Routing;

/// <summary>
/// Makes a node's VXLAN device, its addresses, and its routes, neighbour and FDB entries
/// equal to a <see cref="VxlanPlan"/>: creates what is missing, replaces what differs and
/// removes entries the plan no longer has, touching nothing on other devices.
/// </summary>
public static class VxlanApplier
{
    public static void Apply(RtNetlink rt, VxlanPlan plan, string underlay)
    {
        var link = rt.FindLink(plan.Device);
        if (link is not null && (link.Kind != "vxlan" || link.Vxlan?.Vni != plan.Vni || !plan.Local.Equals(link.Vxlan?.Local)))
        {
            rt.DeleteLink(plan.Device);
            link = null;
        }
        if (link is null)
        {
            rt.CreateVxlan(plan.Device, plan.Vni, plan.Local, underlay, plan.Port, learning: false, mtu: plan.Mtu, mac: plan.Mac);
        }
        else if (link.Mtu != plan.Mtu || link.Mac != plan.Mac)
        {
            rt.SetMtu(plan.Device, plan.Mtu);
            rt.SetMac(plan.Device, plan.Mac);
        }
        rt.SetUp(plan.Device);
        var index = rt.IndexOf(plan.Device);

        var addresses = rt.GetAddresses(index).Where(a => a.Scope == RouteScope.Universe).ToArray();
        foreach (var address in plan.Addresses.Where(p => !addresses.Any(a => a.Prefix == p)))
        {
            rt.AddAddress(plan.Device, address);
        }
        foreach (var stale in addresses.Where(a => !plan.Addresses.Contains(a.Prefix)))
        {
            rt.DeleteAddress(plan.Device, stale.Prefix);
        }

        foreach (var peer in plan.Peers)
        {
            rt.SetNeighbour(index, peer.Gateway, peer.Mac);
            rt.SetFdb(index, peer.Mac, peer.NodeAddress);
            rt.ReplaceRoute(new RouteInfo { Destination = peer.PodCidr, Gateway = peer.Gateway, LinkIndex = index, OnLink = true, Protocol = RouteApplier.Protocol });
        }
        RemoveStale(rt, plan, index);
    }

    private static void RemoveStale(RtNetlink rt, VxlanPlan plan, int index)
    {
        var routes = rt.GetRoutes(System.Net.Sockets.AddressFamily.InterNetwork).Concat(rt.GetRoutes(System.Net.Sockets.AddressFamily.InterNetworkV6));
        foreach (var route in routes.Where(r => r.LinkIndex == index && r.Protocol == RouteApplier.Protocol && !plan.Peers.Any(p => p.PodCidr.Equals(r.Destination))))
        {
            rt.DeleteRoute(route);
        }
        foreach (var neighbour in rt.GetNeighbours(index).Where(n => n.State.HasFlag(NeighbourState.Permanent) && !plan.Peers.Any(p => p.Gateway.Equals(n.Address))))
        {
            rt.DeleteNeighbour(index, neighbour.Address);
        }
        foreach (var entry in rt.GetFdb(index).Where(f => f.Self && f.Destination is not null && !plan.Peers.Any(p => p.Mac == f.Mac && p.NodeAddress.Equals(f.Destination))))
        {
            rt.DeleteFdb(index, entry.Mac, entry.Destination);
        }
    }
}
