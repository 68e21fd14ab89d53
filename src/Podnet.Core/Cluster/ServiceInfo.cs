using System.Net;

namespace Podnet.Core.Cluster;

/// <summary>What the networking planners need of a Kubernetes Service.</summary>
/// <param name="Type">ClusterIP, NodePort, LoadBalancer or ExternalName.</param>
/// <param name="ClusterIPs">spec.clusterIPs; empty for ExternalName and for headless Services.</param>
public sealed record ServiceInfo(string Namespace, string Name, string Type, IReadOnlyList<IPAddress> ClusterIPs, IReadOnlyList<ServicePortInfo> Ports)
{
    /// <summary>True when the Service has a virtual address a pod can be given in its environment.</summary>
    public bool HasClusterIP => ClusterIPs.Count > 0 && Type != "ExternalName";
}

/// <param name="Protocol">TCP, UDP or SCTP, as in the API.</param>
public sealed record ServicePortInfo(string? Name, string Protocol, int Port, int NodePort = 0);
