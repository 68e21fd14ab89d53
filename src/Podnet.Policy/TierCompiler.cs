using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Policy;

/// <summary>
/// ClusterNetworkPolicy tiers around a pod's NetworkPolicy chain, for one direction: the chain
/// a local pod's verdict-map element jumps to.
/// </summary>
/// <remarks>
/// Design. Evaluation runs Admin tier → NetworkPolicy → Baseline tier → allow, and each step is
/// one chain, entered by <c>goto</c> so that a <c>return</c> anywhere goes straight back to the
/// base chain, meaning "this direction allows" (egress then goes on to the receiver's ingress,
/// as the API says an egress Accept still leaves the destination's ingress rules to apply):
/// <code>
/// ad-in-HASH:  the Admin policies selecting the pod, by priority then name, rules in order:
///              Accept → return, Deny → log + drop/reject, Pass → goto next;  last: goto next
/// in-HASH:     the NetworkPolicy chain as without tiers (it always decides: allow → return, end: drop)
/// bl-in-HASH:  the Baseline policies, only when no NetworkPolicy isolates the pod:
///              Accept → return, Deny → log + drop/reject, Pass → return;  end: return
/// </code>
/// "next" is the NetworkPolicy chain when one isolates the pod, else the Baseline chain, else
/// <c>return</c>. A chain is named by the policies it holds (and, for Admin, by the chain that
/// follows), so pods with the same combination share it, and a pod appearing adds only map
/// elements. Equal priorities (upstream leaves their order undefined) are ordered by name.
/// A CNP isolates nothing: a pod no policy of any tier selects gets no map element at all.
/// </remarks>
internal static class TierCompiler
{
    /// <summary>The chain judging a pod in one direction, or null when nothing does.</summary>
    public static string? Entry(
        CompileContext context,
        Direction direction,
        IReadOnlyList<ClusterNetworkPolicyInfo> admin,
        IReadOnlyList<NetworkPolicyInfo> policies,
        IReadOnlyList<ClusterNetworkPolicyInfo> baseline)
    {
        var next = policies.Count > 0
            ? context.DirectionChain(direction, policies)
            : baseline.Count > 0 ? TierChain(context, direction, ClusterPolicyTier.Baseline, baseline, null) : null;
        return admin.Count > 0 ? TierChain(context, direction, ClusterPolicyTier.Admin, admin, next) : next;
    }

    /// <summary>The policies of <paramref name="tier"/> that select the pod and have rules in <paramref name="direction"/>, in evaluation order.</summary>
    public static ClusterNetworkPolicyInfo[] Selecting(
        IEnumerable<ClusterNetworkPolicyInfo> all, ClusterPolicyTier tier, Direction direction, PodInfo pod, IReadOnlyDictionary<string, string> namespaceLabels) =>
        all.Where(p => p.Tier == tier && Rules(p, direction).Count > 0 && p.Selects(pod, namespaceLabels))
            .OrderBy(p => p.Priority)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .ToArray();

    private static IReadOnlyList<ClusterPolicyRuleInfo> Rules(ClusterNetworkPolicyInfo policy, Direction direction) =>
        direction == Direction.Ingress ? policy.IngressRules : policy.EgressRules;

    private static string TierChain(CompileContext context, Direction direction, ClusterPolicyTier tier, IReadOnlyList<ClusterNetworkPolicyInfo> policies, string? next)
    {
        var name = PolicyNames.TierChain(tier, direction, string.Join("\n", policies.Select(p => p.Key).Append("next=" + next)));
        if (context.Plan.Chains.ContainsKey(name))
        {
            return name;
        }
        var pass = next is null ? "return" : "goto " + next;
        var rules = new List<NftRule>();
        foreach (var policy in policies)
        {
            var list = Rules(policy, direction);
            for (var i = 0; i < list.Count; i++)
            {
                var comment = Comment(policy, direction, i, list[i].Name);
                var verdict = list[i].Action switch
                {
                    ClusterPolicyAction.Accept => "return",
                    ClusterPolicyAction.Pass => pass,
                    _ => context.Deny(direction, comment),
                };
                foreach (var family in context.Node.Families)
                {
                    // Every peer of a CNP rule names its namespaces, so no policy namespace is needed.
                    rules.AddRange(RuleCompiler.Texts(context, direction, "", list[i].Match, family, verdict).Select(t => new NftRule(name, t, comment)));
                }
            }
        }
        if (next is not null)
        {
            rules.Add(new NftRule(name, "goto " + next));
        }
        context.Plan.Chains[name] = new PlannedChain(new NftChain(name), rules);
        return name;
    }

    /// <summary>
    /// "cnp:NAME Admin/10 ingress[0] RULE-NAME", at most 120 characters of printable ASCII
    /// without quotes (an nft comment is at most 128 bytes; a rule's name is free text).
    /// </summary>
    private static string Comment(ClusterNetworkPolicyInfo policy, Direction direction, int index, string ruleName)
    {
        var comment = $"{policy.Key} {policy.Tier}/{policy.Priority} {(direction == Direction.Ingress ? "ingress" : "egress")}[{index}]{(ruleName.Length > 0 ? " " + ruleName : "")}";
        var safe = string.Concat(comment.Select(c => c is >= ' ' and <= '~' and not '"' ? c : '_'));
        return safe.Length > 120 ? safe[..120] : safe;
    }
}
