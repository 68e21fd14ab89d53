using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Agent.Routing;

/// <summary>
/// What a node does with pod traffic leaving the cluster, per architecture, as one nft table
/// (<c>inet podnet-egress</c>) replaced whole on every sync.
/// </summary>
/// <remarks>
/// "Leaving the cluster" is any destination outside the pod and service CIDRs. Island
/// masquerades it to the node's address; isolated rejects it with ICMP admin-prohibited in
/// forward (a fast, visible failure) but lets replies through, so NodePort and LoadBalancer
/// traffic that entered from outside still gets its answers; flat leaves it alone. Isolated
/// lets pods reach the cluster's nodes (their InternalIPs, not the node network): upstream
/// Kubernetes lets a pod reach any node's NodePort (the Services conformance tests probe every
/// node's address from an exec pod), and a node is part of the cluster, not "outside"; without
/// this a pod reached its own node's NodePort (input, not forward) but not another's. Rules match
/// addresses, not interfaces: bridged traffic shows the bridge as its interface here
/// (br_netfilter). Replacing the table whole (add + flush + contents in one transaction)
/// makes a repeated sync a no-op and a restart stateless.
/// </remarks>
public static class EgressPlanner
{
    public const string TableName = "podnet-egress";

    public static readonly NftTable Table = new(NftFamily.Inet, TableName);

    private static readonly NftChain Postrouting = new("postrouting", new NftHookSpec(NftChainType.Nat, NftHook.Postrouting, 100));

    private static readonly NftChain Forward = new("forward", new NftHookSpec(NftChainType.Filter, NftHook.Forward, 0));

    public static NftTransaction Build(Architecture architecture, IReadOnlyList<IPNetwork> clusterCidrs, IReadOnlyList<IPNetwork> serviceCidrs, IReadOnlyList<IPAddress>? nodeAddresses = null)
    {
        var tx = new NftTransaction().ReplaceTable(Table);
        if (architecture == Architecture.Island)
        {
            tx.Add(Table, Postrouting);
        }
        else if (architecture == Architecture.Isolated)
        {
            tx.Add(Table, Forward);
            // Service traffic whose endpoint is not a pod (the API server behind `kubernetes`, a
            // selector-less Service's Endpoints) leaves the pod ranges only after the proxy's DNAT:
            // it is the Service's traffic, not the pod's, so it passes, masqueraded (nothing
            // outside routes back to pod addresses in this architecture).
            tx.Add(Table, Postrouting);
            tx.AddRule(Table, Forward.Name, "ct status dnat accept");
        }
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var pods = clusterCidrs.Where(c => c.BaseAddress.AddressFamily == family).ToArray();
            if (pods.Length == 0)
            {
                continue;
            }
            var ip = family == AddressFamily.InterNetwork ? "ip" : "ip6";
            var leaving = $"{ip} saddr {Set(pods)} {ip} daddr != {Set(pods.Concat(serviceCidrs.Where(c => c.BaseAddress.AddressFamily == family)))}";
            switch (architecture)
            {
                case Architecture.Island:
                    tx.AddRule(Table, Postrouting.Name, $"{leaving} masquerade");
                    break;
                case Architecture.Isolated:
                    tx.AddRule(Table, Postrouting.Name, $"{leaving} ct status dnat masquerade");
                    var nodes = (nodeAddresses ?? []).Where(a => a.AddressFamily == family).Select(a => a.ToString()).Distinct().Order(StringComparer.Ordinal).ToArray();
                    if (nodes.Length > 0)
                    {
                        tx.AddRule(Table, Forward.Name, $"{ip} saddr {Set(pods)} {ip} daddr {(nodes.Length == 1 ? nodes[0] : "{ " + string.Join(", ", nodes) + " }")} accept");
                    }
                    var reject = family == AddressFamily.InterNetwork ? "icmp type admin-prohibited" : "icmpv6 type admin-prohibited";
                    tx.AddRule(Table, Forward.Name, $"{leaving} ct direction original reject with {reject}");
                    break;
            }
        }
        return tx;
    }

    private static string Set(IEnumerable<IPNetwork> networks)
    {
        var items = networks.Select(n => n.ToString()).ToArray();
        return items.Length == 1 ? items[0] : "{ " + string.Join(", ", items) + " }";
    }
}
