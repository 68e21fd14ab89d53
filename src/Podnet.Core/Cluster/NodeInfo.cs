using System.Net;

namespace Podnet.Core.Cluster;

/// <summary>
/// What the networking planners need of a Kubernetes Node: its name, its InternalIP
/// addresses (status.addresses) and its pod CIDRs (spec.podCIDRs). Projected from the API
/// object so that planners never see the full object.
/// </summary>
/// <param name="VtepMac">The MAC of the node's VXLAN device, from its annotation (vxlan routing only).</param>
public sealed record NodeInfo(string Name, IReadOnlyList<IPAddress> InternalIPs, IReadOnlyList<IPNetwork> PodCidrs, Net.MacAddress? VtepMac = null)
{
    /// <summary>The annotation on which a node publishes its VXLAN device's MAC.</summary>
    public const string VtepMacAnnotation = "podnet.io/vtep-mac";
}
