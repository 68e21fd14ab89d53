using System.Net;

namespace Podnet.Core.Cluster;

/// <summary>A container port as policy resolves named ports: its name ("" when unnamed), number and protocol (TCP, UDP, SCTP).</summary>
public sealed record PodPortInfo(string Name, int Port, string Protocol);

/// <summary>
/// A pod as the policy engine reads it: where it runs, its labels, its addresses (every
/// family; empty until the pod has them) and its containers' ports. Host-network pods and pods
/// that have finished are marked, because policy treats them as the node's traffic or as gone.
/// </summary>
public sealed record PodInfo(
    string Namespace,
    string Name,
    string Uid,
    string? NodeName,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<IPAddress> Addresses,
    IReadOnlyList<PodPortInfo> Ports,
    bool HostNetwork = false,
    bool Finished = false)
{
    public string Key => Namespace + "/" + Name;
}
