using System.Net;
using k8s.Models;
using Podnet.Core.Cluster;

namespace Podnet.Controllers.Projections;

/// <summary>The records the policy engine reads: pods, namespaces and NetworkPolicies.</summary>
public static partial class ObjectProjection
{
    public static PodInfo ToPodInfo(V1Pod pod)
    {
        var meta = pod.Metadata;
        var ips = pod.Status?.PodIPs is { Count: > 0 } list ? list.Select(i => i.Ip) : pod.Status?.PodIP is { } one ? [one] : [];
        var ports = (pod.Spec?.Containers ?? [])
            .SelectMany(c => c.Ports ?? [])
            .Select(p => new PodPortInfo(p.Name ?? "", p.ContainerPort, (p.Protocol ?? "TCP").ToUpperInvariant()))
            .ToArray();
        return new PodInfo(
            meta?.NamespaceProperty ?? "default",
            meta?.Name ?? "",
            meta?.Uid ?? "",
            pod.Spec?.NodeName,
            Map(meta?.Labels),
            Addresses(ips),
            ports,
            pod.Spec?.HostNetwork == true,
            pod.Status?.Phase is "Succeeded" or "Failed");
    }

    /// <summary>A namespace; kubernetes.io/metadata.name is its name whatever the object says, as the API server enforces.</summary>
    public static NamespaceInfo ToNamespaceInfo(V1Namespace ns)
    {
        var name = ns.Metadata?.Name ?? "";
        var labels = new Dictionary<string, string>(ns.Metadata?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [NamespaceInfo.NameLabel] = name,
        };
        return new NamespaceInfo(name, labels);
    }

    /// <summary>
    /// A NetworkPolicy with the API's defaults: policyTypes [Ingress] plus Egress when the egress
    /// list is not empty, TCP for a port without protocol. A peer or port that does not parse
    /// (which validation refuses) is left out of its rule, and a rule whose every peer was left
    /// out matches nothing rather than everything.
    /// </summary>
    public static NetworkPolicyInfo ToNetworkPolicyInfo(V1NetworkPolicy policy)
    {
        var spec = policy.Spec;
        var types = spec?.PolicyTypes is { Count: > 0 } given
            ? given
            : spec?.Egress is { Count: > 0 } ? ["Ingress", "Egress"] : ["Ingress"];
        return new NetworkPolicyInfo(
            policy.Metadata?.NamespaceProperty ?? "default",
            policy.Metadata?.Name ?? "",
            ToSelector(spec?.PodSelector) ?? LabelSelectorInfo.Everything,
            types.Contains("Ingress"),
            types.Contains("Egress"),
            (spec?.Ingress ?? []).Select(r => ToRule(r.FromProperty, r.Ports)).ToArray(),
            (spec?.Egress ?? []).Select(r => ToRule(r.To, r.Ports)).ToArray());
    }

    public static LabelSelectorInfo? ToSelector(V1LabelSelector? selector) => selector is null
        ? null
        : new LabelSelectorInfo(
            Map(selector.MatchLabels),
            (selector.MatchExpressions ?? []).Select(e => new LabelRequirement(e.Key, e.OperatorProperty, (e.Values ?? []).ToArray())).ToArray());

    private static PolicyRuleInfo ToRule(IList<V1NetworkPolicyPeer>? peers, IList<V1NetworkPolicyPort>? ports)
    {
        var parsed = (peers ?? []).Select(ToPeer).OfType<PolicyPeerInfo>().ToList();
        if (peers is { Count: > 0 } && parsed.Count == 0)
        {
            parsed.Add(new PolicyPeerInfo(null, null, null)); // matches no address
        }
        return new PolicyRuleInfo(parsed, (ports ?? []).Select(ToPort).ToArray());
    }

    private static PolicyPeerInfo? ToPeer(V1NetworkPolicyPeer peer)
    {
        if (peer.IpBlock is { } block)
        {
            if (!IPNetwork.TryParse(block.Cidr ?? "", out var cidr))
            {
                return null;
            }
            var except = (block.Except ?? []).Select(e => IPNetwork.TryParse(e, out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>().ToArray();
            return new PolicyPeerInfo(null, null, new IpBlockInfo(cidr, except));
        }
        if (peer.PodSelector is null && peer.NamespaceSelector is null)
        {
            return null;
        }
        return new PolicyPeerInfo(ToSelector(peer.PodSelector), ToSelector(peer.NamespaceSelector), null);
    }

    private static PolicyPortInfo ToPort(V1NetworkPolicyPort port)
    {
        var protocol = (port.Protocol ?? "TCP").ToUpperInvariant();
        var value = port.Port?.Value;
        if (value is null)
        {
            return new PolicyPortInfo(protocol);
        }
        return int.TryParse(value, out var number)
            ? new PolicyPortInfo(protocol, number, null, port.EndPort)
            : new PolicyPortInfo(protocol, null, value);
    }

    private static IReadOnlyDictionary<string, string> Map(IDictionary<string, string>? labels) =>
        labels is null ? new Dictionary<string, string>() : new Dictionary<string, string>(labels, StringComparer.Ordinal);
}
