using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Podnet.Core.Cluster;
using Podnet.Core.Net;

namespace Podnet.Controllers.Projections;

/// <summary>
/// The one place API objects become the slim records planners take (Podnet.Core.Cluster):
/// defaults applied as the API server applies them, values that do not parse left out rather
/// than thrown on, so a planner never sees a <c>V1Service</c> and never re-derives a field.
/// </summary>
public static partial class ObjectProjection
{
    public static NodeInfo ToNodeInfo(V1Node node)
    {
        var addresses = (node.Status?.Addresses ?? [])
            .Where(a => a.Type == "InternalIP" && IPAddress.TryParse(a.Address, out _))
            .Select(a => IPAddress.Parse(a.Address))
            .ToArray();
        var cidrs = (node.Spec?.PodCIDRs is { Count: > 0 } list ? list : node.Spec?.PodCIDR is { } one ? [one] : [])
            .Select(c => IPNetwork.TryParse(c, out var n) ? n : (IPNetwork?)null)
            .OfType<IPNetwork>()
            .ToArray();
        MacAddress? mac = node.Metadata?.Annotations is { } annotations
            && annotations.TryGetValue(NodeInfo.VtepMacAnnotation, out var text)
            && MacAddress.TryParse(text, out var parsed) ? parsed : null;
        return new NodeInfo(node.Metadata?.Name ?? "", addresses, cidrs, mac);
    }

    public static ServiceInfo ToServiceInfo(V1Service service)
    {
        var spec = service.Spec;
        var type = spec?.Type ?? "ClusterIP";
        var clusterIPs = spec?.ClusterIPs is { Count: > 0 } ips ? ips : spec?.ClusterIP is { } ip ? [ip] : [];
        var affinity = spec?.SessionAffinity == "ClientIP"
            ? TimeSpan.FromSeconds(spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds ?? (int)ServiceInfo.DefaultAffinityTimeout.TotalSeconds)
            : (TimeSpan?)null;
        return new ServiceInfo(
            service.Metadata?.NamespaceProperty ?? "default",
            service.Metadata?.Name ?? "",
            type,
            type == "ExternalName" ? [] : Addresses(clusterIPs),
            (spec?.Ports ?? []).Select(ToPortInfo).ToArray())
        {
            Headless = clusterIPs.Contains("None"),
            ExternalIPs = Addresses(spec?.ExternalIPs),
            LoadBalancerIPs = Addresses((service.Status?.LoadBalancer?.Ingress ?? []).Where(i => i.IpMode is null or "VIP").Select(i => i.Ip)),
            LoadBalancerSourceRanges = (spec?.LoadBalancerSourceRanges ?? []).Select(r => IPNetwork.TryParse(r.Trim(), out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>().ToArray(),
            ExternalTrafficPolicy = spec?.ExternalTrafficPolicy == "Local" ? TrafficPolicy.Local : TrafficPolicy.Cluster,
            InternalTrafficPolicy = spec?.InternalTrafficPolicy == "Local" ? TrafficPolicy.Local : TrafficPolicy.Cluster,
            HealthCheckNodePort = spec?.HealthCheckNodePort ?? 0,
            AffinityTimeout = affinity,
            ExternalName = type == "ExternalName" ? spec?.ExternalName : null,
            PublishNotReadyAddresses = spec?.PublishNotReadyAddresses ?? false,
            ProxyName = service.Metadata?.Labels?.TryGetValue(ServiceInfo.ProxyNameLabel, out var proxy) == true ? proxy : null,
            TrafficDistribution = spec?.TrafficDistribution,
        };
    }

    private static ServicePortInfo ToPortInfo(V1ServicePort port)
    {
        var target = port.TargetPort?.Value;
        var number = target is not null && int.TryParse(target, out var n) ? n : target is null ? port.Port : 0;
        return new ServicePortInfo(port.Name, port.Protocol ?? "TCP", port.Port, port.NodePort ?? 0)
        {
            TargetPort = number,
            TargetPortName = number == 0 ? target : null,
            AppProtocol = port.AppProtocol,
        };
    }

    /// <summary>A slice, or null when it belongs to no Service or has an address type proxies do not serve (FQDN).</summary>
    public static EndpointSliceInfo? ToEndpointSliceInfo(V1EndpointSlice slice)
    {
        if (slice.Metadata?.Labels?.TryGetValue("kubernetes.io/service-name", out var service) != true || service is not { Length: > 0 })
        {
            return null;
        }
        var family = slice.AddressType switch
        {
            "IPv4" => AddressFamily.InterNetwork,
            "IPv6" => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        if (family == AddressFamily.Unknown)
        {
            return null;
        }
        var ports = (slice.Ports ?? [])
            .Where(p => p.Port is > 0)
            .Select(p => new EndpointPortInfo(p.Name ?? "", p.Protocol ?? "TCP", p.Port!.Value, p.AppProtocol))
            .ToArray();
        var endpoints = (slice.Endpoints ?? []).Select(e =>
        {
            var ready = e.Conditions?.Ready ?? true;
            return new EndpointInfo(
                Addresses((e.Addresses ?? []).Where(a => IPAddress.TryParse(a, out var parsed) && parsed.AddressFamily == family)),
                ready,
                e.Conditions?.Serving ?? ready,
                e.Conditions?.Terminating ?? false,
                e.NodeName,
                e.Zone,
                e.Hostname,
                e.TargetRef is { Kind: "Pod" } pod ? $"{pod.NamespaceProperty ?? slice.Metadata.NamespaceProperty}/{pod.Name}" : null)
            {
                ZoneHints = (e.Hints?.ForZones ?? []).Select(z => z.Name).ToArray(),
                NodeHints = (e.Hints?.ForNodes ?? []).Select(z => z.Name).ToArray(),
            };
        }).Where(e => e.Addresses.Count > 0).ToArray();
        slice.Metadata.Labels.TryGetValue("endpointslice.kubernetes.io/managed-by", out var managedBy);
        return new EndpointSliceInfo(slice.Metadata.NamespaceProperty ?? "default", slice.Metadata.Name ?? "", service, family, ports, endpoints, managedBy);
    }

    private static IPAddress[] Addresses(IEnumerable<string>? texts) =>
        (texts ?? []).Select(t => IPAddress.TryParse(t, out var a) ? a : null).OfType<IPAddress>().ToArray();
}
