using System.Net;
using k8s.Models;

namespace Podnet.Dns.Records;

/// <summary>
/// The one place Kubernetes API objects become DNS's slim records; the index and the resolver
/// never see k8s.Models types. Unparseable addresses are left out rather than failing the
/// whole sync: one bad object must not take the zone down.
/// </summary>
public static class Projection
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    public static DnsService Service(V1Service service)
    {
        var spec = service.Spec ?? new V1ServiceSpec();
        var ips = Addresses(spec.ClusterIPs is { Count: > 0 } list ? list : spec.ClusterIP is { } one ? [one] : []);
        var kind = spec.Type == "ExternalName" ? ServiceKind.ExternalName
            : ips.Count == 0 ? ServiceKind.Headless
            : ServiceKind.ClusterIP;
        var ports = (spec.Ports ?? []).Select(p => new DnsPort(p.Name, p.Protocol ?? "TCP", p.Port)).ToArray();
        return new DnsService(
            service.Metadata.NamespaceProperty ?? "default",
            service.Metadata.Name,
            kind,
            kind == ServiceKind.ClusterIP ? ips : [],
            ports,
            kind == ServiceKind.ExternalName ? spec.ExternalName : null,
            spec.PublishNotReadyAddresses == true);
    }

    /// <summary>The slice's Service, or null for a slice without the service-name label (it belongs to no Service).</summary>
    public static DnsEndpointSlice? EndpointSlice(V1EndpointSlice slice)
    {
        if (slice.Metadata.Labels?.TryGetValue(ServiceNameLabel, out var service) != true || string.IsNullOrEmpty(service))
        {
            return null;
        }
        var ports = (slice.Ports ?? []).Where(p => p.Port is not null).Select(p => new DnsPort(p.Name, p.Protocol ?? "TCP", p.Port!.Value)).ToArray();
        var endpoints = (slice.Endpoints ?? [])
            .Select(e => new DnsEndpoint(Addresses(e.Addresses ?? []), e.Hostname, e.Conditions?.Ready ?? true))
            .Where(e => e.Addresses.Count > 0)
            .ToArray();
        return new DnsEndpointSlice(slice.Metadata.NamespaceProperty ?? "default", service, ports, endpoints);
    }

    public static DnsPod Pod(V1Pod pod)
    {
        var ips = pod.Status?.PodIPs is { Count: > 0 } list ? list.Select(p => p.Ip) : pod.Status?.PodIP is { } one ? [one] : [];
        return new DnsPod(pod.Metadata.NamespaceProperty ?? "default", pod.Metadata.Name, Addresses(ips));
    }

    private static IReadOnlyList<IPAddress> Addresses(IEnumerable<string> texts) =>
        [.. texts.Select(t => IPAddress.TryParse(t, out var ip) ? ip : null).OfType<IPAddress>().Distinct()];
}
