using System.Globalization;
using Podnet.Core.Cluster;

namespace Podnet.Proxy;

/// <summary>
/// One Service's fragment of the proxy's ruleset (pure): for each port and each ClusterIP of the
/// node's family, an element of <c>service-ips</c> that sends new connections to the balance
/// chain of the endpoint count, and for endpoint i an element of map <c>slot-i</c>; or, without endpoints, an element of <c>no-endpoint-services</c> that rejects (drops
/// for a Local policy with endpoints only elsewhere). NodePorts the same way in the nodeport
/// maps. ClientIP affinity needs memory per client, so those ports get chains of their own.
/// Headless and ExternalName Services, and those another proxy serves, get nothing.
/// </summary>
public static partial class ServicePlanner
{
    public static ServiceFragment Plan(ServiceInfo service, IReadOnlyList<EndpointSliceInfo> slices, ProxyNode node)
    {
        if (service.Headless || service.Type == "ExternalName" || service.ProxyName is not null)
        {
            return ServiceFragment.Empty;
        }
        var vips = service.ClusterIPs.Where(node.Holds).ToArray();
        if (vips.Length == 0)
        {
            return ServiceFragment.Empty;
        }
        var elements = new List<ElementSpec>();
        var chains = new List<ChainSpec>();
        var sets = new List<Core.Nft.NftSet>();
        var shared = new List<ChainSpec>();
        var sharedSets = new List<Core.Nft.NftSet>();
        var sharedElements = new List<ElementSpec>();
        var udp = new List<UdpPort>();
        foreach (var vip in vips)
        {
            elements.Add(new ElementSpec(ProxyNames.ClusterIPs, vip.ToString()));
        }
        var hasNodePorts = service.Type is "NodePort" or "LoadBalancer";
        var externals = ExternalAddresses(service, node).Except(vips).ToArray();
        var acc = new Accumulator(elements, chains, sets, shared, sharedSets, sharedElements);
        foreach (var port in service.Ports)
        {
            var protocol = port.Protocol.ToLowerInvariant();
            var (verdict, endpoints) = EndpointChoice.Choose(service, port, slices, node);
            var number = port.Port.ToString(CultureInfo.InvariantCulture);
            var nodePort = hasNodePorts && port.NodePort > 0 ? port.NodePort.ToString(CultureInfo.InvariantCulture) : null;
            if (protocol == "udp")
            {
                var serving = EndpointChoice.Serving(port, slices, node);
                udp.AddRange(vips.Concat(externals).Select(v => new UdpPort(v, port.Port, serving)));
                if (nodePort is not null)
                {
                    udp.Add(new UdpPort(null, port.NodePort, serving));
                }
            }
            var key = new PortKey(protocol, port.Port, number, nodePort);
            PlanExternal(service, port, key, externals, slices, node, acc);
            if (verdict != EndpointVerdict.Balance)
            {
                var value = verdict == EndpointVerdict.Reject ? "goto " + ProxyNames.RejectChain : "drop";
                elements.AddRange(vips.Select(v => new ElementSpec(ProxyNames.NoEndpointServices, $"{v} . {protocol} . {number}", value)));
                continue;
            }
            sharedElements.AddRange(Hairpin(endpoints));
            if (service.AffinityTimeout is { } timeout)
            {
                var chain = ProxyNames.AffinityChain(service.Namespace, service.Name, protocol, port.Port);
                AddAffinity(chain, protocol, endpoints, timeout, node, chains, sets);
                elements.AddRange(vips.Select(v => new ElementSpec(ProxyNames.ServiceIPs, $"{v} . {protocol} . {number}", "goto " + chain)));
                continue;
            }
            AddBalanced(vips, key, endpoints, ProxySkeleton.Balance(endpoints.Count), node, acc);
        }
        return new ServiceFragment(elements, chains, sets, shared.DistinctBy(c => c.Name).ToArray(), sharedSets.DistinctBy(m => m.Name).ToArray(), sharedElements.Distinct().ToArray(), udp);
    }

    public const string MarkForMasquerade = "meta mark set meta mark | " + ProxyNames.MasqueradeMark;

    /// <summary>
    /// ClientIP affinity for one Service port in one chain: a client it remembers goes to the
    /// endpoint it went to before; a new one falls through a cascade that picks endpoint i with
    /// probability 1/(N-i) of what is left (1/N each in all) and remembers the choice for the
    /// Service's timeout. IPv4 remembers in one dynamic map from client to endpoint; IPv6 in a
    /// set per endpoint, because nft 1.0.6 aborts (netlink_gen_expr assertion) on a dynamic map
    /// update whose data is an IPv6 address and a port. kube-proxy's layout (a chain and a set
    /// per endpoint) costs six chains and five sets for five endpoints; measured here, 1,000 such
    /// Services load in 3.4 s, 0.34 s with the map (sets, not chains, are the dearer part).
    /// </summary>
    /// <remarks>
    /// A remembered choice is not refreshed by later connections: the client is re-balanced at
    /// most timeoutSeconds after its first connection ("the maximum session sticky time").
    /// </remarks>
    private static void AddAffinity(string chain, string protocol, IReadOnlyList<PortEndpoint> endpoints, TimeSpan timeout, ProxyNode node, List<ChainSpec> chains, List<Core.Nft.NftSet> sets)
    {
        var ip = node.Ip;
        var flags = Core.Nft.NftSetFlags.Dynamic | Core.Nft.NftSetFlags.Timeout;
        var rules = new List<string>();
        var remember = new List<string>();
        if (!node.IsIPv6)
        {
            var map = ProxyNames.AffinityMap(chain);
            sets.Add(new Core.Nft.NftSet(map, node.AddressType, Value: $"{node.AddressType} . inet_service", Flags: flags, Timeout: timeout));
            rules.Add($"meta l4proto {protocol} dnat {ip} to {ip} saddr map @{map}");
            remember.AddRange(endpoints.Select(e => $"update @{map} {{ {ip} saddr : {e.Address} . {e.Port} }}"));
        }
        else
        {
            foreach (var endpoint in endpoints)
            {
                var set = ProxyNames.AffinitySet(chain, endpoint.ToString());
                sets.Add(new Core.Nft.NftSet(set, node.AddressType, Flags: flags, Timeout: timeout));
                rules.Add($"{ip} saddr @{set} meta l4proto {protocol} dnat to {endpoint}");
                remember.Add($"update @{set} {{ {ip} saddr }}");
            }
        }
        for (var i = 0; i < endpoints.Count; i++)
        {
            var left = endpoints.Count - i;
            var draw = left > 1 ? $"numgen random mod {left} 0 " : "";
            rules.Add($"{draw}{remember[i]} meta l4proto {protocol} dnat to {endpoints[i]}");
        }
        chains.Add(new ChainSpec(chain, rules));
    }
}
