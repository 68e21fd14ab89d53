using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Podnet.Controllers.Common;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>
/// The desired endpoints of a Service with a selector, grouped by address type and resolved port
/// set, as upstream's EndpointSlice controller computes them.
/// </summary>
/// <remarks>
/// A pod is an endpoint while it is not terminal and has an address; terminating pods stay,
/// with ready=false (unless publishNotReadyAddresses) and terminating=true. Ports are resolved
/// per pod, so a named targetPort that maps to different numbers on different pods puts those
/// pods in different groups; a port that does not resolve on a pod is left out for that pod.
/// </remarks>
internal static class EndpointBuilder
{
    public const string ZoneLabel = "topology.kubernetes.io/zone";

    public static IReadOnlyList<string> AddressTypes(V1Service service)
    {
        if (service.Spec?.IpFamilies is { Count: > 0 } families)
        {
            return families.Distinct().ToList();
        }
        var clusterIp = service.Spec?.ClusterIP;
        if (clusterIp is { Length: > 0 } && clusterIp != "None" && IPAddress.TryParse(clusterIp, out var address))
        {
            return [PodState.AddressType(address.AddressFamily)];
        }
        // Headless without families: whatever the pods have.
        return ["IPv4", "IPv6"];
    }

    public static List<EndpointGroup> Build(V1Service service, IEnumerable<V1Pod> pods, IReadOnlyDictionary<string, V1Node>? nodes)
    {
        var groups = new Dictionary<(string, string), (IList<Discoveryv1EndpointPort> Ports, List<V1Endpoint> Endpoints)>();
        var addressTypes = AddressTypes(service);
        var selected = pods
            .Where(p => p.Metadata.NamespaceProperty == service.Metadata.NamespaceProperty)
            .Where(p => Labels.MatchesServiceSelector(service.Spec?.Selector, p.Metadata.Labels))
            .Where(p => !PodState.IsTerminal(p))
            .OrderBy(p => p.Metadata.Name, StringComparer.Ordinal);
        foreach (var pod in selected)
        {
            var ports = ResolvePorts(service, pod);
            var portKey = EndpointGroup.PortSetKey(ports);
            foreach (var address in PodState.Addresses(pod))
            {
                var addressType = PodState.AddressType(address.AddressFamily);
                if (!addressTypes.Contains(addressType))
                {
                    continue;
                }
                if (!groups.TryGetValue((addressType, portKey), out var group))
                {
                    group = (ports, []);
                    groups[(addressType, portKey)] = group;
                }
                if (group.Endpoints.All(e => EndpointEquality.Key(e) != KeyFor(pod, address)))
                {
                    group.Endpoints.Add(ToEndpoint(service, pod, address, nodes));
                }
            }
        }
        var result = groups.Select(g => new EndpointGroup(g.Key.Item1, g.Value.Ports, g.Value.Endpoints)).ToList();
        if (TopologyAutoHints.Enabled(service))
        {
            var ratios = TopologyAutoHints.ZoneRatios(nodes?.Values ?? []);
            foreach (var addressType in addressTypes)
            {
                TopologyAutoHints.Apply(result.Where(g => g.AddressType == addressType).SelectMany(g => g.Endpoints), ratios);
            }
        }
        return result;
    }

    private static string KeyFor(V1Pod pod, IPAddress address) => $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}|{address}";

    public static V1Endpoint ToEndpoint(V1Service service, V1Pod pod, IPAddress address, IReadOnlyDictionary<string, V1Node>? nodes)
    {
        var serving = PodState.IsReady(pod);
        var terminating = PodState.IsTerminating(pod);
        var ready = service.Spec?.PublishNotReadyAddresses == true || (serving && !terminating);
        var endpoint = new V1Endpoint
        {
            Addresses = [address.ToString()],
            Conditions = new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating },
            TargetRef = new V1ObjectReference
            {
                Kind = "Pod",
                NamespaceProperty = pod.Metadata.NamespaceProperty,
                Name = pod.Metadata.Name,
                Uid = pod.Metadata.Uid,
            },
        };
        var nodeName = pod.Spec?.NodeName;
        if (!string.IsNullOrEmpty(nodeName))
        {
            endpoint.NodeName = nodeName;
            if (nodes is not null && nodes.TryGetValue(nodeName, out var node)
                && node.Metadata?.Labels?.TryGetValue(ZoneLabel, out var zone) == true && zone.Length > 0)
            {
                endpoint.Zone = zone;
            }
        }
        // Topology-aware routing (topology-mode Auto) takes precedence over trafficDistribution, as upstream.
        endpoint.Hints = TopologyAutoHints.Enabled(service) ? null : Hints(service.Spec?.TrafficDistribution, ready, endpoint.NodeName, endpoint.Zone);
        // Upstream sets the hostname only when the pod names this Service as its subdomain.
        if (!string.IsNullOrEmpty(pod.Spec?.Hostname) && pod.Spec.Subdomain == service.Metadata.Name)
        {
            endpoint.Hostname = pod.Spec.Hostname;
        }
        return endpoint;
    }

    /// <summary>
    /// Topology hints as upstream's EndpointSlice controller sets them for spec.trafficDistribution
    /// (trafficdist heuristics): PreferClose and PreferSameZone give a ready endpoint with a zone
    /// its own zone; PreferSameNode gives it its own node, and its zone when it has one (for proxies
    /// that know only zones). Not ready endpoints, and other or no distributions, get none.
    /// </summary>
    public static V1EndpointHints? Hints(string? distribution, bool ready, string? nodeName, string? zone)
    {
        if (!ready)
        {
            return null;
        }
        var zones = string.IsNullOrEmpty(zone) ? null : new List<V1ForZone> { new() { Name = zone } };
        return distribution switch
        {
            "PreferSameNode" when !string.IsNullOrEmpty(nodeName) => new V1EndpointHints { ForNodes = [new V1ForNode { Name = nodeName }], ForZones = zones },
            "PreferClose" or "PreferSameZone" or "PreferSameNode" when zones is not null => new V1EndpointHints { ForZones = zones },
            _ => null,
        };
    }

    /// <summary>The Service's ports as this pod serves them; a named port missing on the pod is skipped.</summary>
    public static IList<Discoveryv1EndpointPort> ResolvePorts(V1Service service, V1Pod pod)
    {
        var result = new List<Discoveryv1EndpointPort>();
        foreach (var servicePort in service.Spec?.Ports ?? [])
        {
            var protocol = servicePort.Protocol ?? "TCP";
            var number = FindPort(pod, servicePort.TargetPort, servicePort.Port, protocol);
            if (number is null)
            {
                continue;
            }
            result.Add(new Discoveryv1EndpointPort
            {
                Name = servicePort.Name ?? "",
                Port = number,
                Protocol = protocol,
                AppProtocol = servicePort.AppProtocol,
            });
        }
        return result;
    }

    internal static int? FindPort(V1Pod pod, IntOrString? targetPort, int servicePort, string protocol)
    {
        var value = targetPort?.Value;
        if (string.IsNullOrEmpty(value))
        {
            return servicePort;
        }
        if (int.TryParse(value, out var number))
        {
            return number;
        }
        var containers = (pod.Spec?.Containers ?? []).Concat(
            (pod.Spec?.InitContainers ?? []).Where(c => c.RestartPolicy == "Always"));
        foreach (var container in containers)
        {
            foreach (var port in container.Ports ?? [])
            {
                if (port.Name == value && (port.Protocol ?? "TCP") == protocol)
                {
                    return port.ContainerPort;
                }
            }
        }
        return null;
    }
}
