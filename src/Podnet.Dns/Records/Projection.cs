using System.Net;
using k8s.Models;
using Podnet.Controllers.Projections;

namespace Podnet.Dns.Records;

/// <summary>
/// DNS's slim records from Kubernetes API objects; the index and the resolver never see
/// k8s.Models types. Services and EndpointSlices are read through ObjectProjection, the one place
/// every component reads them, so defaults and parsing cannot drift apart. Unparseable addresses are left out rather than failing the
/// whole sync: one bad object must not take the zone down.
/// </summary>
public static class Projection
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>The Service as the proxy and every planner read it (ObjectProjection), in DNS's terms.</summary>
    public static DnsService Service(V1Service service)
    {
        var info = ObjectProjection.ToServiceInfo(service);
        var kind = info.Type == "ExternalName" ? ServiceKind.ExternalName
            : info.ClusterIPs.Count == 0 ? ServiceKind.Headless
            : ServiceKind.ClusterIP;
        return new DnsService(
            info.Namespace,
            info.Name,
            kind,
            kind == ServiceKind.ClusterIP ? [.. info.ClusterIPs.Distinct()] : [],
            info.Ports.Select(p => new DnsPort(p.Name, p.Protocol, p.Port)).ToArray(),
            info.ExternalName,
            info.PublishNotReadyAddresses);
    }

    /// <summary>The slice's Service, or null for a slice without the service-name label (it belongs to no Service) or of type FQDN.</summary>
    public static DnsEndpointSlice? EndpointSlice(V1EndpointSlice slice)
    {
        if (ObjectProjection.ToEndpointSliceInfo(slice) is not { } info)
        {
            return null;
        }
        var ports = info.Ports.Select(p => new DnsPort(p.Name.Length == 0 ? null : p.Name, p.Protocol, p.Port)).ToArray();
        var endpoints = info.Endpoints.Select(e => new DnsEndpoint([.. e.Addresses.Distinct()], e.Hostname, e.Ready)).ToArray();
        return new DnsEndpointSlice(info.Namespace, info.ServiceName, ports, endpoints);
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
