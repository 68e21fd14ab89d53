using System.Net;
using System.Net.Sockets;
using Podnet.Core.Plans;

namespace Podnet.Agent.Routing;

/// <summary>
/// The island architecture's masquerade: traffic from pods to anything outside the cluster's
/// pod and service CIDRs leaves with the node's address, so the broader network never sees
/// (and never needs a route to) pod addresses. Pod-to-pod and pod-to-service traffic keeps
/// the pod's own source address.
/// </summary>
/// <remarks>
/// The table is replaced whole on every sync (add + flush + contents in one transaction), so a
/// repeated sync changes nothing and a restart needs no state. Rules match addresses, not
/// interfaces: bridged traffic shows the bridge as its interface here (br_netfilter).
/// </remarks>
public static class MasqueradePlanner
{
    public const string Table = "podnet-masq";

    public static NftTransaction Build(IReadOnlyList<IPNetwork> clusterCidrs, IReadOnlyList<IPNetwork> serviceCidrs)
    {
        var tx = new NftTransaction().ReplaceTable("inet", Table);
        tx.Add($"add chain inet {Table} postrouting {{ type nat hook postrouting priority 100 ; }}");
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var pods = clusterCidrs.Where(c => c.BaseAddress.AddressFamily == family).ToArray();
            if (pods.Length == 0)
            {
                continue;
            }
            var ip = family == AddressFamily.InterNetwork ? "ip" : "ip6";
            var inside = pods.Concat(serviceCidrs.Where(c => c.BaseAddress.AddressFamily == family));
            tx.Add($"add rule inet {Table} postrouting {ip} saddr {Set(pods)} {ip} daddr != {Set(inside)} masquerade");
        }
        return tx;
    }

    private static string Set(IEnumerable<IPNetwork> networks)
    {
        var items = networks.Select(n => n.ToString()).ToArray();
        return items.Length == 1 ? items[0] : "{ " + string.Join(", ", items) + " }";
    }
}
