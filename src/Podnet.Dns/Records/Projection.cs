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

/// <summary>
/// What the DNS watcher's informer caches keep of each object: the fields <see cref="Projection"/>
/// reads, and the metadata the informer needs (name, namespace, resourceVersion). Real objects
/// carry managedFields, annotations (last-applied-configuration) and status, often several
/// kilobytes each, that DNS never reads; dropping them as they arrive bounds the caches' memory.
/// </summary>
public static class Slim
{
    public static V1Service Service(V1Service service) => new()
    {
        Metadata = Meta(service.Metadata),
        Spec = service.Spec is not { } spec ? null : new V1ServiceSpec
        {
            Type = spec.Type,
            ClusterIP = spec.ClusterIP,
            ClusterIPs = spec.ClusterIPs,
            ExternalName = spec.ExternalName,
            PublishNotReadyAddresses = spec.PublishNotReadyAddresses,
            Ports = spec.Ports?.Select(p => new V1ServicePort { Name = p.Name, Protocol = p.Protocol, Port = p.Port }).ToList(),
        },
    };

    public static V1EndpointSlice EndpointSlice(V1EndpointSlice slice) => new()
    {
        Metadata = Meta(slice.Metadata, slice.Metadata.Labels?.TryGetValue(Projection.ServiceNameLabel, out var service) == true
            ? new Dictionary<string, string> { [Projection.ServiceNameLabel] = service }
            : null),
        AddressType = slice.AddressType,
        Ports = slice.Ports?.Select(p => new Discoveryv1EndpointPort { Name = p.Name, Protocol = p.Protocol, Port = p.Port }).ToList(),
        Endpoints = slice.Endpoints?.Select(e => new V1Endpoint
        {
            Addresses = e.Addresses,
            Hostname = e.Hostname,
            Conditions = e.Conditions is null ? null : new V1EndpointConditions { Ready = e.Conditions.Ready },
        }).ToList() ?? [],
    };

    public static V1Pod Pod(V1Pod pod) => new()
    {
        Metadata = Meta(pod.Metadata),
        Status = pod.Status is null ? null : new V1PodStatus { PodIP = pod.Status.PodIP, PodIPs = pod.Status.PodIPs },
    };

    public static V1Namespace Namespace(V1Namespace ns) => new() { Metadata = Meta(ns.Metadata) };

    private static V1ObjectMeta Meta(V1ObjectMeta meta, IDictionary<string, string>? labels = null) => new()
    {
        Name = meta.Name,
        NamespaceProperty = meta.NamespaceProperty,
        ResourceVersion = meta.ResourceVersion,
        Labels = labels,
    };
}
