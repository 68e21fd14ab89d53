using System.Net;
using Podnet.Core.Cluster;

namespace Podnet.Proxy;

/// <summary>
/// A Service's external side: its LoadBalancer ingress addresses, its externalIPs and its
/// NodePorts, which take externalTrafficPolicy (the ClusterIPs take internalTrafficPolicy).
/// </summary>
/// <remarks>
/// Design: with policy Cluster and nothing else to check, an external address is only elements,
/// like a ClusterIP (its slot elements, and <c>service-ips</c> pointing at the shared
/// <c>external-balance-N</c>, which marks for masquerade). Source ranges, policy Local and ClientIP
/// affinity need decisions per Service, so those ports get one chain of their own
/// (<c>ext-…</c>), shared by their external addresses and their NodePort, with the endpoints
/// inline in the DNAT statement (a random draw over a literal map): Local's two endpoint sets
/// (every node's for short-circuited traffic, this node's for the rest) cannot both sit in the
/// slot maps under one key. LoadBalancer Services are few; the chain costs nothing at scale.
/// The chain, in order, as kube-proxy's external and firewall chains:
/// <list type="number">
/// <item>source ranges, on the LoadBalancer addresses only (NodePorts are not covered, as upstream): any other source is dropped;</item>
/// <item>policy Cluster: mark for masquerade, then any endpoint;</item>
/// <item>policy Local: pods (the cluster CIDRs) go to any endpoint with their source kept, the node
/// itself to any endpoint masqueraded (both as if they had gone out and come back in); everyone
/// else to this node's endpoints only, with the source preserved, or is dropped when there is none here.</item>
/// </list>
/// With ClientIP affinity every branch that picks an endpoint remembers the client: the ClusterIP's
/// affinity chain when it spans every node (internal policy Cluster), else an <c>svx-</c> chain over
/// every endpoint, and an <c>svl-</c> chain over this node's for policy Local.
/// </remarks>
public static partial class ServicePlanner
{
    /// <summary>The Service's addresses outside the cluster in the node's family: LoadBalancer ingress (LoadBalancer Services only) and externalIPs.</summary>
    public static IEnumerable<IPAddress> ExternalAddresses(ServiceInfo service, ProxyNode node) =>
        (service.Type == "LoadBalancer" ? service.LoadBalancerIPs : []).Concat(service.ExternalIPs).Where(node.Holds).Distinct();

    private static void PlanExternal(ServiceInfo service, ServicePortInfo port, PortKey key, IReadOnlyList<IPAddress> externals, IReadOnlyList<EndpointSliceInfo> slices, ProxyNode node, Accumulator acc)
    {
        if (externals.Count == 0 && key.NodePort is null)
        {
            return;
        }
        var (verdict, cluster) = EndpointChoice.Choose(port, slices, node, TrafficPolicy.Cluster);
        if (verdict != EndpointVerdict.Balance)
        {
            // No endpoint anywhere: reject, whatever the policy.
            var reject = "goto " + ProxyNames.RejectChain;
            acc.Elements.AddRange(externals.Select(a => new ElementSpec(ProxyNames.NoEndpointServices, $"{a} . {key.Protocol} . {key.Number}", reject)));
            if (key.NodePort is not null)
            {
                acc.Elements.Add(new ElementSpec(ProxyNames.NoEndpointNodePorts, $"{key.Protocol} . {key.NodePort}", reject));
            }
            return;
        }
        acc.SharedElements.AddRange(Hairpin(cluster));
        var loadBalancers = service.Type == "LoadBalancer" ? service.LoadBalancerIPs.Where(externals.Contains).ToArray() : [];
        var ranges = service.LoadBalancerSourceRanges.Where(r => node.Holds(r.BaseAddress)).ToArray();
        var firewall = loadBalancers.Length > 0 && ranges.Length > 0;
        var local = service.ExternalTrafficPolicy == TrafficPolicy.Local;
        if (!local && !firewall && service.AffinityTimeout is null)
        {
            AddBalanced(externals, key, cluster, ProxySkeleton.ExternalBalance(cluster.Count), node, acc);
            if (key.NodePort is not null)
            {
                acc.Shared.Add(ProxySkeleton.NodePortBalance(cluster.Count));
                acc.Elements.Add(new ElementSpec(ProxyNames.ServiceNodePorts, $"{key.Protocol} . {key.NodePort}", "goto " + ProxyNames.NodePortBalance(cluster.Count)));
                for (var i = 0; i < cluster.Count; i++)
                {
                    acc.Shared.Add(ProxySkeleton.NodePortSlot(node, i));
                    acc.SharedSets.Add(ProxySkeleton.NodePortSlotMap(node, i));
                    acc.Elements.Add(new ElementSpec(ProxyNames.NodePortSlot(i), $"{key.Protocol} . {key.NodePort}", $"{cluster[i].Address} . {cluster[i].Port}"));
                }
            }
            return;
        }
        var ip = node.Ip;
        var chain = ProxyNames.ExternalChain(service.Namespace, service.Name, key.Protocol, key.Port);
        var rules = new List<string>();
        if (firewall)
        {
            rules.Add($"{ip} daddr {ProxySkeleton.Literal(loadBalancers.Select(a => a.ToString()))} {ip} saddr != {ProxySkeleton.Literal(ranges.Select(Prefix))} drop");
        }
        // Affinity holds on every path, as kube-proxy's per-endpoint affinity sets do: the ClusterIP's
        // affinity chain serves when it holds every node's endpoints (internal policy Cluster);
        // otherwise the external side keeps chains of its own, one over every endpoint and one over
        // this node's (policy Local), each remembering its clients.
        string toCluster;
        if (service.AffinityTimeout is not { } timeout)
        {
            toCluster = Dnat(node, key.Protocol, cluster);
        }
        else if (service.InternalTrafficPolicy == TrafficPolicy.Cluster)
        {
            toCluster = "goto " + ProxyNames.AffinityChain(service.Namespace, service.Name, key.Protocol, key.Port);
        }
        else
        {
            var affinity = ProxyNames.AffinityChain(service.Namespace, service.Name, key.Protocol, key.Port, ProxyNames.ExternalAffinity);
            AddAffinity(affinity, key.Protocol, cluster, timeout, node, acc.Chains, acc.Sets);
            toCluster = "goto " + affinity;
        }
        if (!local)
        {
            rules.Add(MarkForMasquerade);
            rules.Add(toCluster);
        }
        else
        {
            if (node.ClusterCidrs.Count > 0)
            {
                rules.Add($"{ip} saddr {ProxySkeleton.Literal(node.ClusterCidrs.Select(c => c.ToString()))} {toCluster}");
            }
            rules.Add($"fib saddr type local {MarkForMasquerade}");
            rules.Add($"fib saddr type local {toCluster}");
            var (localVerdict, here) = EndpointChoice.Choose(port, slices, node, TrafficPolicy.Local);
            if (localVerdict != EndpointVerdict.Balance)
            {
                rules.Add("drop");
            }
            else if (service.AffinityTimeout is { } localTimeout)
            {
                var affinity = ProxyNames.AffinityChain(service.Namespace, service.Name, key.Protocol, key.Port, ProxyNames.LocalAffinity);
                AddAffinity(affinity, key.Protocol, here, localTimeout, node, acc.Chains, acc.Sets);
                rules.Add("goto " + affinity);
            }
            else
            {
                rules.Add(Dnat(node, key.Protocol, here));
            }
        }
        acc.Chains.Add(new ChainSpec(chain, rules));
        acc.Elements.AddRange(externals.Select(a => new ElementSpec(ProxyNames.ServiceIPs, $"{a} . {key.Protocol} . {key.Number}", "goto " + chain)));
        if (key.NodePort is not null)
        {
            acc.Elements.Add(new ElementSpec(ProxyNames.ServiceNodePorts, $"{key.Protocol} . {key.NodePort}", "goto " + chain));
        }
    }

    /// <summary>Addresses balanced over the slot maps: their elements in each slot and in <c>service-ips</c>, pointing at <paramref name="balance"/>.</summary>
    private static void AddBalanced(IReadOnlyList<IPAddress> addresses, PortKey key, IReadOnlyList<PortEndpoint> endpoints, ChainSpec balance, ProxyNode node, Accumulator acc)
    {
        if (addresses.Count == 0)
        {
            return;
        }
        acc.Shared.Add(balance);
        acc.Shared.Add(ProxySkeleton.Balance(endpoints.Count));
        for (var i = 0; i < endpoints.Count; i++)
        {
            acc.Shared.Add(ProxySkeleton.Slot(node, i));
            acc.SharedSets.Add(ProxySkeleton.SlotMap(node, i));
            var endpoint = $"{endpoints[i].Address} . {endpoints[i].Port}";
            acc.Elements.AddRange(addresses.Select(v => new ElementSpec(ProxyNames.Slot(i), $"{v} . {key.Protocol} . {key.Number}", endpoint)));
        }
        acc.Elements.AddRange(addresses.Select(v => new ElementSpec(ProxyNames.ServiceIPs, $"{v} . {key.Protocol} . {key.Number}", "goto " + balance.Name)));
    }

    /// <summary>A DNAT to one of <paramref name="endpoints"/>, drawn at random from a literal map.</summary>
    private static string Dnat(ProxyNode node, string protocol, IReadOnlyList<PortEndpoint> endpoints) =>
        endpoints.Count == 1
            ? $"meta l4proto {protocol} dnat {node.Ip} to {endpoints[0]}"
            : $"meta l4proto {protocol} dnat {node.Ip} to numgen random mod {endpoints.Count} map {{ {string.Join(", ", endpoints.Select((e, i) => $"{i} : {e.Address} . {e.Port}"))} }}";

    /// <summary>A prefix as nft prints it: a single address without its full-length prefix.</summary>
    private static string Prefix(IPNetwork network) =>
        network.PrefixLength == (network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128) ? network.BaseAddress.ToString() : network.ToString();

    private static IEnumerable<ElementSpec> Hairpin(IEnumerable<PortEndpoint> endpoints) =>
        endpoints.Select(e => e.Address).Distinct().Select(a => new ElementSpec(ProxyNames.Hairpin, $"{a} . {a}"));

    /// <summary>A Service port as the rules name it: protocol keyword, port, and NodePort when it has one.</summary>
    private readonly record struct PortKey(string Protocol, int Port, string Number, string? NodePort);

    /// <summary>What a Service's plan collects.</summary>
    private sealed record Accumulator(
        List<ElementSpec> Elements,
        List<ChainSpec> Chains,
        List<Core.Nft.NftSet> Sets,
        List<ChainSpec> Shared,
        List<Core.Nft.NftSet> SharedSets,
        List<ElementSpec> SharedElements);
}
