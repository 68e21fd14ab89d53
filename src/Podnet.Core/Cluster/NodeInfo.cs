using System.Net;

namespace Podnet.Core.Cluster;

/// <summary>
/// What the networking planners need of a Kubernetes Node: its name, its InternalIP
/// addresses (status.addresses) and its pod CIDRs (spec.podCIDRs). Projected from the API
/// object so that planners never see the full object.
/// </summary>
public sealed record NodeInfo(string Name, IReadOnlyList<IPAddress> InternalIPs, IReadOnlyList<IPNetwork> PodCidrs);
