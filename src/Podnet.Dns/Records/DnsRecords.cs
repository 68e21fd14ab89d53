using System.Net;

namespace Podnet.Dns.Records;

/// <summary>How a Service is published in DNS (spec 1.1.0 sections 2.3-2.5).</summary>
public enum ServiceKind
{
    /// <summary>Has cluster IPs: A/AAAA of those, SRV targets the Service's name.</summary>
    ClusterIP,

    /// <summary>clusterIP None: A/AAAA of the ready endpoints, per-endpoint names, SRV per endpoint.</summary>
    Headless,

    /// <summary>A CNAME to spec.externalName.</summary>
    ExternalName,
}

/// <param name="Protocol">TCP, UDP or SCTP as in the API; SRV names use it lower-cased.</param>
public sealed record DnsPort(string? Name, string Protocol, int Port);

/// <summary>What DNS needs of a Service.</summary>
public sealed record DnsService(
    string Namespace,
    string Name,
    ServiceKind Kind,
    IReadOnlyList<IPAddress> ClusterIPs,
    IReadOnlyList<DnsPort> Ports,
    string? ExternalName = null,
    bool PublishNotReadyAddresses = false);

/// <param name="Ready">conditions.ready; an absent condition counts as ready, as the API documents.</param>
public sealed record DnsEndpoint(IReadOnlyList<IPAddress> Addresses, string? Hostname, bool Ready);

/// <summary>What DNS needs of an EndpointSlice: its Service (label kubernetes.io/service-name), ports and endpoints.</summary>
public sealed record DnsEndpointSlice(string Namespace, string ServiceName, IReadOnlyList<DnsPort> Ports, IReadOnlyList<DnsEndpoint> Endpoints);

/// <summary>A pod's addresses, for `pods verified` records.</summary>
public sealed record DnsPod(string Namespace, string Name, IReadOnlyList<IPAddress> Addresses);

/// <summary>Everything the index is built from, as of one moment of the watch.</summary>
public sealed record DnsSnapshot(
    IReadOnlyCollection<string> Namespaces,
    IReadOnlyList<DnsService> Services,
    IReadOnlyList<DnsEndpointSlice> EndpointSlices,
    IReadOnlyList<DnsPod> Pods);
