using System.Net;

namespace Podnet.Core.Cluster;

/// <summary>
/// A networking.k8s.io/v1 NetworkPolicy with the API's defaults applied: <see cref="Ingress"/>
/// and <see cref="Egress"/> are the policy types after defaulting (no policyTypes means Ingress,
/// plus Egress when the egress list is not empty).
/// </summary>
public sealed record NetworkPolicyInfo(
    string Namespace,
    string Name,
    LabelSelectorInfo PodSelector,
    bool Ingress,
    bool Egress,
    IReadOnlyList<PolicyRuleInfo> IngressRules,
    IReadOnlyList<PolicyRuleInfo> EgressRules)
{
    public string Key => Namespace + "/" + Name;
}

/// <summary>One ingress or egress rule: any listed peer (empty: every peer) and any listed port (empty: every port).</summary>
public sealed record PolicyRuleInfo(IReadOnlyList<PolicyPeerInfo> Peers, IReadOnlyList<PolicyPortInfo> Ports);

/// <summary>
/// A peer: pods by <see cref="PodSelector"/> and/or namespaces by <see cref="NamespaceSelector"/>
/// (both: the pods in those namespaces; a pod selector alone: in the policy's namespace), or an
/// <see cref="IpBlock"/>.
/// </summary>
public sealed record PolicyPeerInfo(LabelSelectorInfo? PodSelector, LabelSelectorInfo? NamespaceSelector, IpBlockInfo? IpBlock);

public sealed record IpBlockInfo(IPNetwork Cidr, IReadOnlyList<IPNetwork> Except);

/// <summary>
/// A port entry: <see cref="Protocol"/> (TCP, UDP or SCTP; TCP by default) and either a number
/// (with an optional inclusive <see cref="EndPort"/>), a name resolved on the destination pod,
/// or neither (every port of the protocol).
/// </summary>
public sealed record PolicyPortInfo(string Protocol, int? Port = null, string? PortName = null, int? EndPort = null);
