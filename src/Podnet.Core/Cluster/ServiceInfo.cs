using System.Net;

namespace Podnet.Core.Cluster;

/// <summary>externalTrafficPolicy / internalTrafficPolicy.</summary>
public enum TrafficPolicy
{
    Cluster,
    Local,
}

/// <summary>
/// What the networking planners (proxy, DNS, policy, LoadBalancer announcement, environment
/// variables) need of a Kubernetes Service, projected from the API object in one place
/// (Podnet.Controllers' ObjectProjection) so that planners never see the full object.
/// </summary>
/// <param name="Type">ClusterIP, NodePort, LoadBalancer or ExternalName.</param>
/// <param name="ClusterIPs">spec.clusterIPs; empty for ExternalName and for headless Services.</param>
public sealed record ServiceInfo(string Namespace, string Name, string Type, IReadOnlyList<IPAddress> ClusterIPs, IReadOnlyList<ServicePortInfo> Ports)
{
    /// <summary>The label by which a Service asks to be served by another proxy (then Podnet's leaves it alone).</summary>
    public const string ProxyNameLabel = "service.kubernetes.io/service-proxy-name";

    /// <summary>The default of sessionAffinityConfig.clientIP.timeoutSeconds: three hours.</summary>
    public static readonly TimeSpan DefaultAffinityTimeout = TimeSpan.FromSeconds(10800);

    /// <summary>spec.clusterIP was "None": a headless Service (DNS only, no proxying).</summary>
    public bool Headless { get; init; }

    /// <summary>spec.externalIPs.</summary>
    public IReadOnlyList<IPAddress> ExternalIPs { get; init; } = [];

    /// <summary>status.loadBalancer.ingress[].ip whose ipMode is VIP or unset (Proxy mode addresses are the load balancer's, not ours).</summary>
    public IReadOnlyList<IPAddress> LoadBalancerIPs { get; init; } = [];

    /// <summary>spec.loadBalancerSourceRanges (empty: any source).</summary>
    public IReadOnlyList<IPNetwork> LoadBalancerSourceRanges { get; init; } = [];

    public TrafficPolicy ExternalTrafficPolicy { get; init; } = TrafficPolicy.Cluster;

    public TrafficPolicy InternalTrafficPolicy { get; init; } = TrafficPolicy.Cluster;

    /// <summary>spec.healthCheckNodePort (LoadBalancer with externalTrafficPolicy Local), else 0.</summary>
    public int HealthCheckNodePort { get; init; }

    /// <summary>ClientIP session affinity's timeout; null without affinity.</summary>
    public TimeSpan? AffinityTimeout { get; init; }

    /// <summary>spec.externalName of an ExternalName Service.</summary>
    public string? ExternalName { get; init; }

    /// <summary>spec.publishNotReadyAddresses: DNS publishes endpoints that are not ready.</summary>
    public bool PublishNotReadyAddresses { get; init; }

    /// <summary>The <see cref="ProxyNameLabel"/> label's value, when set.</summary>
    public string? ProxyName { get; init; }

    /// <summary>spec.trafficDistribution (PreferClose, PreferSameZone, PreferSameNode), when set.</summary>
    public string? TrafficDistribution { get; init; }

    /// <summary>True when the Service has a virtual address a pod can be given in its environment.</summary>
    public bool HasClusterIP => ClusterIPs.Count > 0 && Type != "ExternalName";

    public string Key => Namespace + "/" + Name;
}

/// <param name="Protocol">TCP, UDP or SCTP, as in the API.</param>
/// <param name="NodePort">The allocated node port of a NodePort or LoadBalancer Service, else 0.</param>
public sealed record ServicePortInfo(string? Name, string Protocol, int Port, int NodePort = 0)
{
    /// <summary>targetPort as a number (0 when it is a name, or unset: then it equals <see cref="Port"/>).</summary>
    public int TargetPort { get; init; }

    /// <summary>targetPort as a container port name, resolved per endpoint from the EndpointSlice's ports.</summary>
    public string? TargetPortName { get; init; }

    public string? AppProtocol { get; init; }
}
