using Podnet.Core.Nft;

namespace Podnet.Proxy;

/// <summary>
/// The fixed part of a family's proxy table: base chains at numeric priorities (kube-proxy's:
/// filter -110 before DNAT, nat -100 for DNAT, filter -90 after the output DNAT, nat 100 for
/// masquerade), the dispatch and check chains, and the maps Services fill.
/// </summary>
public static class ProxySkeleton
{
    public static IEnumerable<(NftChain Chain, IReadOnlyList<string> Rules)> Chains(ProxyNode node)
    {
        var ip = node.Ip;
        var ct = "ct state new jump ";
        yield return (Base(ProxyNames.NatPrerouting, NftChainType.Nat, NftHook.Prerouting, -100), ["jump " + ProxyNames.Services]);
        yield return (Base(ProxyNames.NatOutput, NftChainType.Nat, NftHook.Output, -100), ["jump " + ProxyNames.Services]);
        yield return (Base(ProxyNames.NatPostrouting, NftChainType.Nat, NftHook.Postrouting, 100), ["jump " + ProxyNames.Masquerading]);
        yield return (Base(ProxyNames.FilterInput, NftChainType.Filter, NftHook.Input, -110), [ct + ProxyNames.NodePortEndpointsCheck, ct + ProxyNames.ServiceEndpointsCheck]);
        yield return (Base(ProxyNames.FilterForward, NftChainType.Filter, NftHook.Forward, -110), [ct + ProxyNames.ServiceEndpointsCheck, ct + ProxyNames.ClusterIPsCheck]);
        yield return (Base(ProxyNames.FilterOutput, NftChainType.Filter, NftHook.Output, -110), [ct + ProxyNames.ServiceEndpointsCheck]);
        yield return (Base(ProxyNames.FilterOutputPostDnat, NftChainType.Filter, NftHook.Output, -90), [ct + ProxyNames.ClusterIPsCheck]);
        var services = new List<string>();
        if (node.ClusterCidrs.Count > 0)
        {
            // Traffic to a ClusterIP from anything but a pod (the node itself, a router) is
            // masqueraded, so the endpoint's reply comes back through this node's conntrack.
            services.Add($"{ip} daddr @{ProxyNames.ClusterIPs} {ip} saddr != {Literal(node.ClusterCidrs.Select(c => c.ToString()))} {ServicePlanner.MarkForMasquerade}");
        }
        services.Add($"{ip} daddr . meta l4proto . th dport vmap @{ProxyNames.ServiceIPs}");
        services.Add($"{ip} daddr @{ProxyNames.NodePortIPs} meta l4proto . th dport vmap @{ProxyNames.ServiceNodePorts}");
        yield return (new NftChain(ProxyNames.Services), services);
        yield return (new NftChain(ProxyNames.Masquerading),
        [
            // Hairpin: a pod that reached itself through its Service must see the reply come from elsewhere.
            $"ct status dnat {ip} saddr . {ip} daddr @{ProxyNames.Hairpin} masquerade fully-random",
            $"meta mark & {ProxyNames.MasqueradeMark} == 0x00000000 return",
            $"meta mark set meta mark ^ {ProxyNames.MasqueradeMark}",
            "masquerade fully-random",
        ]);
        yield return (new NftChain(ProxyNames.ServiceEndpointsCheck), [$"{ip} daddr . meta l4proto . th dport vmap @{ProxyNames.NoEndpointServices}"]);
        yield return (new NftChain(ProxyNames.NodePortEndpointsCheck), [$"{ip} daddr @{ProxyNames.NodePortIPs} meta l4proto . th dport vmap @{ProxyNames.NoEndpointNodePorts}"]);
        var checks = new List<string> { $"{ip} daddr @{ProxyNames.ClusterIPs} reject" };
        if (node.ServiceCidrs.Count > 0)
        {
            checks.Add($"{ip} daddr {Literal(node.ServiceCidrs.Select(c => c.ToString()))} drop");
        }
        yield return (new NftChain(ProxyNames.ClusterIPsCheck), checks);
        yield return (new NftChain(ProxyNames.RejectChain), ["reject"]);
    }

    public static IEnumerable<NftSet> Sets(ProxyNode node)
    {
        var a = node.AddressType;
        yield return new NftSet(ProxyNames.ServiceIPs, $"{a} . inet_proto . inet_service", Value: "verdict");
        yield return new NftSet(ProxyNames.ServiceNodePorts, "inet_proto . inet_service", Value: "verdict");
        yield return new NftSet(ProxyNames.NoEndpointServices, $"{a} . inet_proto . inet_service", Value: "verdict");
        yield return new NftSet(ProxyNames.NoEndpointNodePorts, "inet_proto . inet_service", Value: "verdict");
        yield return new NftSet(ProxyNames.ClusterIPs, a);
        yield return new NftSet(ProxyNames.NodePortIPs, a);
        yield return new NftSet(ProxyNames.Hairpin, $"{a} . {a}");
    }

    /// <summary>The node's own elements: the addresses NodePorts are served on.</summary>
    public static IEnumerable<ElementSpec> NodeElements(ProxyNode node) =>
        node.NodeIPs.Select(a => new ElementSpec(ProxyNames.NodePortIPs, a.ToString()));

    /// <summary>
    /// The ClusterIP balance chain for <paramref name="endpoints"/> endpoints: a random draw sends
    /// the connection to one of as many slot chains, each giving every Service its endpoint in
    /// that slot. Shared by every Service with that many endpoints; the slots by all with more.
    /// </summary>
    public static ChainSpec Balance(int endpoints) => new(ProxyNames.Balance(endpoints), [Draw(endpoints, ProxyNames.Slot)]);

    /// <summary>External addresses under traffic policy Cluster: mark for masquerade, then balance over the slots (their keys are the external addresses).</summary>
    public static ChainSpec ExternalBalance(int endpoints) => new(ProxyNames.ExternalBalance(endpoints), [ServicePlanner.MarkForMasquerade, "goto " + ProxyNames.Balance(endpoints)]);

    /// <summary>The same for NodePorts, which mark for masquerade first (traffic policy Cluster).</summary>
    public static ChainSpec NodePortBalance(int endpoints) => new(ProxyNames.NodePortBalance(endpoints), [ServicePlanner.MarkForMasquerade, Draw(endpoints, ProxyNames.NodePortSlot)]);

    public static ChainSpec Slot(ProxyNode node, int index) => new(ProxyNames.Slot(index),
        [$"meta l4proto {{ tcp, udp, sctp }} dnat {node.Ip} to {node.Ip} daddr . meta l4proto . th dport map @{ProxyNames.Slot(index)}"]);

    public static ChainSpec NodePortSlot(ProxyNode node, int index) => new(ProxyNames.NodePortSlot(index),
        [$"meta l4proto {{ tcp, udp, sctp }} dnat {node.Ip} to meta l4proto . th dport map @{ProxyNames.NodePortSlot(index)}"]);

    /// <summary>A slot's map. Declared by type, not typeof: nft 1.0.6 cannot add a rule using a typeof map that an earlier transaction made ("conflicting protocols").</summary>
    public static NftSet SlotMap(ProxyNode node, int index) => new(ProxyNames.Slot(index), $"{node.AddressType} . inet_proto . inet_service", Value: $"{node.AddressType} . inet_service");

    public static NftSet NodePortSlotMap(ProxyNode node, int index) => new(ProxyNames.NodePortSlot(index), "inet_proto . inet_service", Value: $"{node.AddressType} . inet_service");

    private static string Draw(int endpoints, Func<int, string> slot) =>
        endpoints == 1
            ? "goto " + slot(0)
            : $"numgen random mod {endpoints} vmap {{ {string.Join(", ", Enumerable.Range(0, endpoints).Select(i => $"{i} : goto {slot(i)}"))} }}";

    private static NftChain Base(string name, NftChainType type, NftHook hook, int priority) => new(name, new NftHookSpec(type, hook, priority));

    internal static string Literal(IEnumerable<string> items)
    {
        var all = items.ToArray();
        return all.Length == 1 ? all[0] : "{ " + string.Join(", ", all) + " }";
    }
}
