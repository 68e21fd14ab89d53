using Podnet.Core.Plans;

namespace Podnet.Lab.Topology;

/// <summary>
/// Flat architecture: the routes the lab's outside host (the broader network's router) and its
/// router (when nodes sit in several subnets) need to each node's pod CIDRs, from the routes
/// "pod CIDR via the node's address" that the Node objects give.
/// </summary>
/// <remarks>
/// A gateway must be on a connected subnet: the router is on every subnet, so it takes the
/// node routes as they are; the outside host is only on subnet 0, so a node in another subnet is
/// reached through the router's address there.
/// </remarks>
public static class FlatRoutes
{
    public static IReadOnlyList<DesiredRoute> ForOutside(LabPlan plan, IReadOnlyList<DesiredRoute> viaNodes)
    {
        if (plan.Router is null)
        {
            return viaNodes;
        }
        var connected = plan.Fabrics[0].Networks;
        var router = plan.Router.Ports[0].Addresses;
        return viaNodes
            .Select(r => connected.Any(n => n.Contains(r.Gateway)) ? r : r with { Gateway = router.First(a => a.Family == r.Gateway.AddressFamily).Address })
            .ToArray();
    }
}
