using System.Net;
using k8s.Models;

namespace Podnet.Agent.Routing;

/// <summary>
/// The cluster's service ranges as the agent's data paths use them (the proxy drops traffic to
/// an unallocated address in them; the egress tables leave them alone): every CIDR of every
/// networking.k8s.io/v1 ServiceCIDR, a terminating one included (its addresses may still be in
/// use, which is why it still exists), as kube-proxy follows them since 1.33. Until the API
/// has any (an older server, or the informer not synced), the agent's --service-cidr.
/// </summary>
public static class ServiceRanges
{
    public static IReadOnlyList<IPNetwork> Of(IEnumerable<V1ServiceCIDR> objects, IReadOnlyList<IPNetwork> configured)
    {
        var ranges = new SortedSet<string>(StringComparer.Ordinal);
        var parsed = new List<IPNetwork>();
        foreach (var cidr in objects.SelectMany(o => o.Spec?.Cidrs ?? []))
        {
            if (IPNetwork.TryParse(cidr, out var network) && ranges.Add(network.ToString()))
            {
                parsed.Add(network);
            }
        }
        return parsed.Count == 0 ? configured : parsed.OrderBy(n => n.ToString(), StringComparer.Ordinal).ToArray();
    }

    /// <summary>True when both hold the same ranges in the same order.</summary>
    public static bool Same(IReadOnlyList<IPNetwork> a, IReadOnlyList<IPNetwork> b) => a.SequenceEqual(b);
}
