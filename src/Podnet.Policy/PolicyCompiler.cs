using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Policy;

public enum PolicyDeny
{
    Drop,
    Reject,
}

/// <summary>
/// The node a plan is for: its name (its pods are the ones isolated here), the address
/// families the cluster uses, and what denied traffic gets.
/// </summary>
public sealed record PolicyNode(string NodeName, IReadOnlyList<AddressFamily> Families, PolicyDeny Deny = PolicyDeny.Drop);

/// <summary>Everything a plan is computed from.</summary>
public sealed record PolicySnapshot(
    IReadOnlyList<NetworkPolicyInfo> Policies,
    IReadOnlyList<PodInfo> Pods,
    IReadOnlyList<NamespaceInfo> Namespaces,
    IReadOnlyList<ClusterNetworkPolicyInfo>? ClusterPolicies = null);

/// <summary>
/// Compiles NetworkPolicies, ClusterNetworkPolicies (see <see cref="TierCompiler"/>), pods and namespaces into the node's <c>inet podnet-policy</c>
/// table (a pure function of its inputs).
/// </summary>
/// <remarks>
/// Design. One base chain at filter forward: replies pass (<c>ct state established,related</c>),
/// a pod reaching itself passes, then the sender's address looks up the egress verdict map and
/// the receiver's the ingress one; each element sends a local pod's packets to the chain of the
/// policies that isolate it in that direction. Such a chain holds the rules of those policies
/// (a union: the first rule that allows returns) and ends in the deny verdict; pods isolated by
/// the same policies share it, so a pod appearing adds map elements, not rules. Egress comes
/// first and returns when allowed, so a connection between two local pods needs both.
/// ClusterNetworkPolicies wrap that chain in their tiers (<see cref="TierCompiler"/>): a pod
/// that only a CNP selects gets an element too, and a CNP alone isolates nothing.
/// Rules match peers through named sets of pod addresses compiled from selectors (a pod
/// appearing or changing labels changes elements), ipBlocks through interval sets, named ports
/// through sets of "address . protocol . port" expanded per destination pod. Node traffic
/// never passes forward (the node sends through output and receives through input), so it is
/// never filtered; another node's traffic is a peer like any other.
/// </remarks>
public static class PolicyCompiler
{
    public static PolicyPlan Compile(PolicySnapshot snapshot, PolicyNode node)
    {
        var plan = new PolicyPlan();
        var context = new CompileContext(snapshot, node, plan);
        AddSkeleton(plan, node);
        var policiesByNamespace = snapshot.Policies.GroupBy(p => p.Namespace, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(p => p.Name, StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
        var clusterPolicies = snapshot.ClusterPolicies ?? [];
        foreach (var pod in context.Peers.Where(p => p.NodeName == node.NodeName))
        {
            var policies = policiesByNamespace.GetValueOrDefault(pod.Namespace) ?? [];
            var selecting = policies.Where(p => p.PodSelector.Matches(pod.Labels)).ToArray();
            foreach (var address in pod.Addresses.Where(a => node.Families.Contains(a.AddressFamily)))
            {
                Element(plan, PolicyNames.SelfSet(address.AddressFamily), $"{address} . {address}", null);
            }
            var namespaceLabels = context.NamespaceLabels(pod.Namespace);
            foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
            {
                var isolating = selecting.Where(p => direction == Direction.Ingress ? p.Ingress : p.Egress).ToArray();
                var admin = TierCompiler.Selecting(clusterPolicies, ClusterPolicyTier.Admin, direction, pod, namespaceLabels);
                var baseline = TierCompiler.Selecting(clusterPolicies, ClusterPolicyTier.Baseline, direction, pod, namespaceLabels);
                Judge(context, plan, pod, direction, isolating, TierCompiler.Entry(context, direction, admin, isolating, baseline));
            }
        }
        return plan;
    }

    private static void Judge(CompileContext context, PolicyPlan plan, PodInfo pod, Direction direction, NetworkPolicyInfo[] isolating, string? chain)
    {
        if (isolating.Length > 0)
        {
            (direction == Direction.Ingress ? plan.IngressIsolation : plan.EgressIsolation)[pod.Key] = isolating.Select(p => p.Key).ToArray();
        }
        if (chain is null)
        {
            return;
        }
        foreach (var address in pod.Addresses.Where(a => context.Node.Families.Contains(a.AddressFamily)))
        {
            var map = direction == Direction.Ingress ? PolicyNames.IngressMap(address.AddressFamily) : PolicyNames.EgressMap(address.AddressFamily);
            Element(plan, map, address.ToString(), "jump " + chain);
        }
    }

    private static void AddSkeleton(PolicyPlan plan, PolicyNode node)
    {
        var rules = new List<NftRule> { new(PolicyNames.Forward, "ct state established,related accept") };
        foreach (var family in node.Families)
        {
            var type = PolicyNames.AddressType(family);
            var ip = PolicyNames.IpKeyword(family);
            plan.Sets[PolicyNames.SelfSet(family)] = new PlannedSet(new NftSet(PolicyNames.SelfSet(family), $"{type} . {type}"), new Dictionary<string, string?>(StringComparer.Ordinal));
            plan.Sets[PolicyNames.EgressMap(family)] = new PlannedSet(new NftSet(PolicyNames.EgressMap(family), type, "verdict"), new Dictionary<string, string?>(StringComparer.Ordinal));
            plan.Sets[PolicyNames.IngressMap(family)] = new PlannedSet(new NftSet(PolicyNames.IngressMap(family), type, "verdict"), new Dictionary<string, string?>(StringComparer.Ordinal));
            rules.Add(new NftRule(PolicyNames.Forward, $"{ip} saddr . {ip} daddr @{PolicyNames.SelfSet(family)} accept"));
        }
        rules.AddRange(node.Families.Select(f => new NftRule(PolicyNames.Forward, $"{PolicyNames.IpKeyword(f)} saddr vmap @{PolicyNames.EgressMap(f)}")));
        rules.AddRange(node.Families.Select(f => new NftRule(PolicyNames.Forward, $"{PolicyNames.IpKeyword(f)} daddr vmap @{PolicyNames.IngressMap(f)}")));
        plan.Chains[PolicyNames.Forward] = new PlannedChain(
            new NftChain(PolicyNames.Forward, new NftHookSpec(NftChainType.Filter, NftHook.Forward, PolicyNames.ForwardPriority)),
            rules);
    }

    internal static void Element(PolicyPlan plan, string set, string key, string? value) =>
        ((Dictionary<string, string?>)plan.Sets[set].Elements)[key] = value;
}
