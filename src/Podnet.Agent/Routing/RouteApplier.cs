using System.Net.Sockets;
using Podnet.Core.Plans;
using Podnet.Kernel.Netlink;

namespace Podnet.Agent.Routing;

/// <summary>
/// Makes the node's routes to other nodes' pods equal to a plan. Podnet's routes carry their
/// own protocol number, so the applier can tell them from every other route: it adds or
/// replaces what the plan has and deletes only Podnet routes the plan no longer has.
/// </summary>
public static class RouteApplier
{
    /// <summary>The rtnetlink protocol that marks Podnet's routes (shows as "proto 80" in `ip route`).</summary>
    public const byte Protocol = 80;

    /// <summary>Applies <paramref name="plan"/>; returns how many routes were added, replaced or removed.</summary>
    public static int Apply(RtNetlink rt, IReadOnlyList<DesiredRoute> plan)
    {
        var current = rt.GetRoutes(AddressFamily.InterNetwork)
            .Concat(rt.GetRoutes(AddressFamily.InterNetworkV6))
            .Where(r => r.Protocol == Protocol)
            .ToList();
        var changes = 0;
        foreach (var route in plan)
        {
            var existing = current.FirstOrDefault(r => r.Destination.Equals(route.Destination));
            if (existing is not null && route.Gateway.Equals(existing.Gateway))
            {
                continue;
            }
            rt.ReplaceRoute(new RouteInfo { Destination = route.Destination, Gateway = route.Gateway, Protocol = Protocol });
            changes++;
        }
        foreach (var stale in current.Where(r => !plan.Any(p => p.Destination.Equals(r.Destination))))
        {
            if (rt.DeleteRoute(stale))
            {
                changes++;
            }
        }
        return changes;
    }
}
