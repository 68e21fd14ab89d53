namespace Podnet.Core.Cluster;

/// <summary>The tier of a ClusterNetworkPolicy: Admin is judged before NetworkPolicy, Baseline after it.</summary>
public enum ClusterPolicyTier
{
    Admin,
    Baseline,
}

/// <summary>
/// What a ClusterNetworkPolicy rule does with the traffic it matches: Accept and Deny decide;
/// Pass skips the rest of the tier (Admin: on to NetworkPolicy; Baseline: on to the default, allow).
/// </summary>
public enum ClusterPolicyAction
{
    Accept,
    Deny,
    Pass,
}

/// <summary>
/// One rule of a ClusterNetworkPolicy: its action and what it matches, as a NetworkPolicy rule
/// would say it (every peer carries a namespace selector, so no peer means "the policy's
/// namespace"; networks are ipBlocks without excepts; a named port is listed once per protocol,
/// as the API matches the name whatever the container port's protocol).
/// </summary>
public sealed record ClusterPolicyRuleInfo(string Name, ClusterPolicyAction Action, PolicyRuleInfo Match);

/// <summary>
/// A policy.networking.k8s.io ClusterNetworkPolicy: its tier and priority (lower first), the
/// pods it applies to (namespaces by <see cref="NamespaceSelector"/>, and pods in them by
/// <see cref="PodSelector"/>, null meaning all; <see cref="SelectsNothing"/> for a subject the
/// projection could not read), and its rules in order.
/// </summary>
public sealed record ClusterNetworkPolicyInfo(
    string Name,
    ClusterPolicyTier Tier,
    int Priority,
    LabelSelectorInfo NamespaceSelector,
    LabelSelectorInfo? PodSelector,
    IReadOnlyList<ClusterPolicyRuleInfo> IngressRules,
    IReadOnlyList<ClusterPolicyRuleInfo> EgressRules,
    bool SelectsNothing = false)
{
    /// <summary>"cnp:NAME" (a NetworkPolicy key is "namespace/name").</summary>
    public string Key => "cnp:" + Name;

    public bool Selects(PodInfo pod, IReadOnlyDictionary<string, string> namespaceLabels) =>
        !SelectsNothing && NamespaceSelector.Matches(namespaceLabels) && (PodSelector?.Matches(pod.Labels) ?? true);
}
