using System.Net;
using k8s.Models;
using Podnet.Core.Cluster;
using Podnet.Core.Net;

namespace Podnet.Agent.Node;

/// <summary>Projects API objects into the slim records the planners take.</summary>
public static class NodeProjection
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

    public static ServiceInfo ToServiceInfo(V1Service service) => new(
        service.Metadata?.NamespaceProperty ?? "default",
        service.Metadata?.Name ?? "",
        service.Spec?.Type ?? "ClusterIP",
        (service.Spec?.ClusterIPs ?? (service.Spec?.ClusterIP is { } ip ? [ip] : []))
            .Where(a => a != "None" && IPAddress.TryParse(a, out _))
            .Select(IPAddress.Parse)
            .ToArray(),
        (service.Spec?.Ports ?? []).Select(p => new ServicePortInfo(p.Name, p.Protocol ?? "TCP", p.Port, p.NodePort ?? 0)).ToArray());
}
