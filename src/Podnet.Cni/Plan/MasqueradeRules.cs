using System.Net;
using System.Net.Sockets;
using Podnet.Core.Nft;

namespace Podnet.Cni.Plan;

/// <summary>
/// The nftables transactions for ipMasq (pure). One table per network, named from a hash of the
/// network name (nft identifiers are more restrictive than CNI names):
/// <code>
/// table inet pncni_XXXXXXXXX
///   set pods4/pods6   the pod addresses of this network (one element per ADD)
///   set nets4/nets6   the pod subnets (intervals), never masqueraded
///   chain postrouting nat hook, priority 100 (srcnat)
///     ip saddr @pods4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade
/// </code>
/// The rules are flushed and re-added in every ADD's transaction, so concurrent ADDs converge
/// on exactly one copy. DEL removes one element per transaction, as a missing element would
/// abort a whole transaction (nft 1.0.6 has no "destroy").
/// </summary>
internal static class MasqueradeRules
{
    private static readonly NftChain Postrouting = new("postrouting", new NftHookSpec(NftChainType.Nat, NftHook.Postrouting, 100));

    public static string TableName(string network) => StableName.Derive("pncni_", network, 9);

    public static NftTable Table(string network) => new(NftFamily.Inet, TableName(network));

    public static string BuildAdd(MasqueradePlan plan)
    {
        var t = Table(plan.NetworkName);
        var tx = new NftTransaction()
            .Add(t)
            .Add(t, Postrouting)
            .Add(t, new NftSet("pods4", "ipv4_addr"))
            .Add(t, new NftSet("pods6", "ipv6_addr"))
            .Add(t, new NftSet("nets4", "ipv4_addr", Flags: NftSetFlags.Interval, AutoMerge: true))
            .Add(t, new NftSet("nets6", "ipv6_addr", Flags: NftSetFlags.Interval, AutoMerge: true))
            .Flush(t, Postrouting)
            .AddRule(t, Postrouting.Name, "ip saddr @pods4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade")
            .AddRule(t, Postrouting.Name, "ip6 saddr @pods6 ip6 daddr != @nets6 ip6 daddr != ff00::/8 masquerade");
        foreach (var source in plan.Sources)
        {
            tx.AddElement(t, SetOf("pods", source.AddressFamily), source.ToString());
        }
        foreach (var network in plan.LocalNetworks)
        {
            tx.AddElement(t, SetOf("nets", network.BaseAddress.AddressFamily), network.ToString());
        }
        return tx.ToScript();
    }

    /// <summary>One script per address: each must be applied on its own (see the class remarks).</summary>
    public static IEnumerable<string> BuildRemove(string network, IEnumerable<IPAddress> sources) =>
        sources.Select(a => new NftTransaction().DeleteElement(Table(network), SetOf("pods", a.AddressFamily), a.ToString()).ToScript());

    private static string SetOf(string prefix, AddressFamily family) => prefix + (family == AddressFamily.InterNetwork ? "4" : "6");
}
