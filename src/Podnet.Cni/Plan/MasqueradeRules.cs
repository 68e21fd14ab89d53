using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Podnet.Cni.Plan;

/// <summary>
/// The nftables text for ipMasq (pure). One table per network, named from a hash of the
/// network name (nft identifiers are more restrictive than CNI names):
/// <code>
/// table inet pncni_XXXXXXXXX
///   set pods4/pods6   the pod addresses of this network (one element per ADD)
///   set nets4/nets6   the pod subnets (intervals), never masqueraded
///   chain postrouting nat hook, priority 100 (srcnat)
///     ip saddr @pods4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade
/// </code>
/// The rules are flushed and re-added in every ADD's transaction, so concurrent ADDs converge
/// on exactly one copy. DEL removes one element per statement, as a missing element would abort
/// a whole transaction (nft 1.0.6 has no "destroy").
/// </summary>
internal static class MasqueradeRules
{
    public static string TableName(string network) => StableName.Derive("pncni_", network, 9);

    public static string BuildAdd(MasqueradePlan plan)
    {
        var t = $"inet {TableName(plan.NetworkName)}";
        var s = new StringBuilder();
        s.Append($"add table {t}\n");
        s.Append($"add chain {t} postrouting {{ type nat hook postrouting priority 100 ; }}\n");
        s.Append($"add set {t} pods4 {{ type ipv4_addr ; }}\n");
        s.Append($"add set {t} pods6 {{ type ipv6_addr ; }}\n");
        s.Append($"add set {t} nets4 {{ type ipv4_addr ; flags interval ; auto-merge ; }}\n");
        s.Append($"add set {t} nets6 {{ type ipv6_addr ; flags interval ; auto-merge ; }}\n");
        s.Append($"flush chain {t} postrouting\n");
        s.Append($"add rule {t} postrouting ip saddr @pods4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade\n");
        s.Append($"add rule {t} postrouting ip6 saddr @pods6 ip6 daddr != @nets6 ip6 daddr != ff00::/8 masquerade\n");
        foreach (var source in plan.Sources)
        {
            s.Append($"add element {t} {SetOf("pods", source.AddressFamily)} {{ {source} }}\n");
        }
        foreach (var network in plan.LocalNetworks)
        {
            s.Append($"add element {t} {SetOf("nets", network.BaseAddress.AddressFamily)} {{ {network} }}\n");
        }
        return s.ToString();
    }

    /// <summary>One script per address: each must be applied on its own (see the class remarks).</summary>
    public static IEnumerable<string> BuildRemove(string network, IEnumerable<IPAddress> sources) =>
        sources.Select(a => $"delete element inet {TableName(network)} {SetOf("pods", a.AddressFamily)} {{ {a} }}\n");

    private static string SetOf(string prefix, AddressFamily family) => prefix + (family == AddressFamily.InterNetwork ? "4" : "6");
}
