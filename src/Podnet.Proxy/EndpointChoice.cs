using System.Net;
using Podnet.Core.Cluster;

namespace Podnet.Proxy;

/// <summary>One endpoint of one Service port: an address and the port it serves that Service port on.</summary>
public readonly record struct PortEndpoint(IPAddress Address, int Port, bool Serving, string? NodeName)
{
    public override string ToString() => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}

/// <summary>What the proxy does with a Service port: balance over these endpoints, reject, or drop.</summary>
public enum EndpointVerdict
{
    Balance,
    Reject,
    Drop,
}

/// <summary>
/// Which endpoints serve a Service port, as kube-proxy chooses them (pkg/proxy/topology.go): the
/// ready ones; when none is ready, the ones serving while terminating (so a rolling update never
/// blackholes); with internalTrafficPolicy Local only this node's. No endpoint at all rejects
/// (the client sees a refusal, never a timeout); endpoints that exist but none on this node for
/// a Local policy drop.
/// </summary>
public static class EndpointChoice
{
    /// <summary>Every endpoint of <paramref name="port"/> with what its slice says of it; a slice's port of the same name and protocol gives the number (so a named targetPort resolves per endpoint).</summary>
    private static IEnumerable<(PortEndpoint Endpoint, EndpointInfo Info)> Collect(ServicePortInfo port, IEnumerable<EndpointSliceInfo> slices, ProxyNode node)
    {
        foreach (var slice in slices.Where(s => s.Family == node.Family))
        {
            var entry = slice.Ports.FirstOrDefault(p => p.Name == (port.Name ?? "") && string.Equals(p.Protocol, port.Protocol, StringComparison.OrdinalIgnoreCase));
            if (entry is null)
            {
                continue;
            }
            foreach (var endpoint in slice.Endpoints)
            {
                foreach (var address in endpoint.Addresses.Where(node.Holds))
                {
                    yield return (new PortEndpoint(address, entry.Port, endpoint.Serving, endpoint.NodeName), endpoint);
                }
            }
        }
    }

    /// <summary>
    /// The addresses serving <paramref name="port"/> whatever the traffic policy: UDP conntrack
    /// entries towards the Service whose reply comes from anything else are stale (kube-proxy's
    /// conntrack cleanup uses the same set).
    /// </summary>
    public static IReadOnlySet<IPAddress> Serving(ServicePortInfo port, IEnumerable<EndpointSliceInfo> slices, ProxyNode node) =>
        Collect(port, slices, node).Where(c => c.Info.Serving).Select(c => c.Endpoint.Address).ToHashSet();

    /// <summary>The endpoints for traffic to the Service's ClusterIPs (internalTrafficPolicy).</summary>
    public static (EndpointVerdict Verdict, IReadOnlyList<PortEndpoint> Endpoints) Choose(ServiceInfo service, ServicePortInfo port, IEnumerable<EndpointSliceInfo> slices, ProxyNode node) =>
        Choose(port, slices, node, service.InternalTrafficPolicy);

    /// <summary>
    /// The endpoints under <paramref name="policy"/>: Cluster takes every node's, Local only this
    /// node's (the external policy's Local path, or internalTrafficPolicy Local).
    /// </summary>
    public static (EndpointVerdict Verdict, IReadOnlyList<PortEndpoint> Endpoints) Choose(ServicePortInfo port, IEnumerable<EndpointSliceInfo> slices, ProxyNode node, TrafficPolicy policy)
    {
        var ready = new List<PortEndpoint>();
        var terminating = new List<PortEndpoint>();
        var any = false;
        var all = Collect(port, slices, node).ToArray();
        var topology = policy == TrafficPolicy.Cluster ? Topology(all.Where(c => c.Info.Ready).Select(c => c.Info).ToArray(), node) : null;
        foreach (var (endpoint, info) in all)
        {
            any = true;
            if (policy == TrafficPolicy.Local && info.NodeName != node.NodeName)
            {
                continue;
            }
            if (info.Ready)
            {
                if (topology is null || topology(info))
                {
                    ready.Add(endpoint);
                }
            }
            else if (info.Serving && info.Terminating)
            {
                terminating.Add(endpoint);
            }
        }
        var chosen = (ready.Count > 0 ? ready : terminating).DistinctBy(e => (e.Address, e.Port)).OrderBy(e => e.Address.ToString(), StringComparer.Ordinal).ThenBy(e => e.Port).ToArray();
        if (chosen.Length > 0)
        {
            return (EndpointVerdict.Balance, chosen);
        }
        return (any && policy == TrafficPolicy.Local ? EndpointVerdict.Drop : EndpointVerdict.Reject, []);
    }

    /// <summary>
    /// The topology filter kube-proxy derives from the EndpointSlices' hints (topologyModeFromHints):
    /// same node when every ready endpoint has node hints and one names this node; else same zone
    /// when every ready endpoint has zone hints and one names this node's zone; else none (null).
    /// </summary>
    private static Func<EndpointInfo, bool>? Topology(IReadOnlyList<EndpointInfo> ready, ProxyNode node)
    {
        if (ready.Count == 0)
        {
            return null;
        }
        if (ready.All(e => e.NodeHints.Count > 0) && ready.Any(e => e.NodeHints.Contains(node.NodeName)))
        {
            return e => e.NodeHints.Contains(node.NodeName);
        }
        if (node.Zone is { Length: > 0 } zone && ready.All(e => e.ZoneHints.Count > 0) && ready.Any(e => e.ZoneHints.Contains(zone)))
        {
            return e => e.ZoneHints.Contains(zone);
        }
        return null;
    }

    /// <summary>
    /// What a healthCheckNodePort reports: this node's ready endpoints of the Service, each
    /// address and port once over all its ports (kube-proxy's LocalReadyEndpoints).
    /// </summary>
    public static int LocalReady(ServiceInfo service, IEnumerable<EndpointSliceInfo> slices, string nodeName) =>
        slices.SelectMany(s => s.Endpoints.Where(e => e.Ready && e.NodeName == nodeName)
                .SelectMany(e => e.Addresses.SelectMany(a => s.Ports.Where(p => service.Ports.Any(sp => (sp.Name ?? "") == p.Name)).Select(p => (a, p.Port)))))
            .Distinct().Count();
}
