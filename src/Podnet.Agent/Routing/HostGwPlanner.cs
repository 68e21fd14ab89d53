using System.Net;
using Podnet.Core.Cluster;
using Podnet.Core.Plans;

namespace Podnet.Agent.Routing;

/// <summary>
/// host-gw routing: every other node's pod CIDRs are routed via that node's address of the
/// same family. Nodes with no pod CIDR yet, or no address of the CIDR's family, get no route.
/// </summary>
public static class HostGwPlanner
{
    public static IReadOnlyList<DesiredRoute> Build(string self, IEnumerable<NodeInfo> nodes)
    {
        var routes = new List<DesiredRoute>();
        foreach (var node in nodes.Where(n => n.Name != self).OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            foreach (var cidr in node.PodCidrs)
            {
                var gateway = node.InternalIPs.FirstOrDefault(a => a.AddressFamily == cidr.BaseAddress.AddressFamily);
                if (gateway is not null)
                {
                    routes.Add(new DesiredRoute(cidr, gateway));
                }
            }
        }
        return routes;
    }
}
