using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Policy;

/// <summary>
/// One compilation's working state: the pods that can be peers, namespace labels, and the
/// shared chains and sets made so far (each made once, however many pods or rules use it).
/// </summary>
internal sealed class CompileContext
{
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _namespaceLabels;

    public CompileContext(PolicySnapshot snapshot, PolicyNode node, PolicyPlan plan)
    {
        Node = node;
        Plan = plan;
        _namespaceLabels = snapshot.Namespaces.ToDictionary(n => n.Name, n => n.Labels, StringComparer.Ordinal);
        // Host-network pods are the node's traffic, finished pods are gone; a pod without an
        // address yet cannot be matched by one.
        Peers = snapshot.Pods.Where(p => !p.HostNetwork && !p.Finished && p.Addresses.Count > 0).ToArray();
        _peersByNamespace = Peers.GroupBy(p => p.Namespace, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    private readonly Dictionary<string, PodInfo[]> _peersByNamespace;

    /// <summary>
    /// The pods some selector peer of a policy in <paramref name="policyNamespace"/> selects:
    /// namespaces first (the policy's own, or those the namespace selector matches), then the
    /// pods in them, so a peer costs its namespaces' pods, not the cluster's.
    /// </summary>
    public IEnumerable<PodInfo> SelectedBy(string policyNamespace, IEnumerable<PolicyPeerInfo> peers)
    {
        var seen = new HashSet<PodInfo>(ReferenceEqualityComparer.Instance);
        foreach (var peer in peers)
        {
            var namespaces = peer.NamespaceSelector is null
                ? [policyNamespace]
                : _peersByNamespace.Keys.Where(ns => peer.NamespaceSelector.Matches(NamespaceLabels(ns)));
            foreach (var ns in namespaces)
            {
                foreach (var pod in _peersByNamespace.GetValueOrDefault(ns) ?? [])
                {
                    if ((peer.PodSelector?.Matches(pod.Labels) ?? true) && seen.Add(pod))
                    {
                        yield return pod;
                    }
                }
            }
        }
    }

    public PolicyNode Node { get; }

    public PolicyPlan Plan { get; }

    public IReadOnlyList<PodInfo> Peers { get; }

    /// <summary>The chain holding the rules of <paramref name="policies"/> for one direction (made once).</summary>
    public string DirectionChain(Direction direction, IReadOnlyList<NetworkPolicyInfo> policies)
    {
        var name = PolicyNames.DirectionChain(direction, string.Join("\n", policies.Select(p => p.Key)));
        if (Plan.Chains.ContainsKey(name))
        {
            return name;
        }
        var rules = new List<NftRule>();
        foreach (var policy in policies)
        {
            var list = direction == Direction.Ingress ? policy.IngressRules : policy.EgressRules;
            for (var i = 0; i < list.Count; i++)
            {
                var comment = $"{policy.Key} {(direction == Direction.Ingress ? "ingress" : "egress")}[{i}]";
                if (comment.Length > 120)
                {
                    comment = comment[..120];
                }
                foreach (var family in Node.Families)
                {
                    rules.AddRange(RuleCompiler.Texts(this, direction, policy.Namespace, list[i], family).Select(t => new NftRule(name, t, comment)));
                }
            }
        }
        rules.Add(new NftRule(name, Deny(direction)));
        Plan.Chains[name] = new PlannedChain(new NftChain(name), rules);
        return name;
    }

    /// <summary>
    /// What denied traffic gets: logged to the nflog group under the direction's prefix and the
    /// denying rule's name if it has one (drops are counted per pod and name the CNP rule), then
    /// dropped or rejected.
    /// </summary>
    public string Deny(Direction direction, string? rule = null) =>
        $"log prefix \"{PolicyNames.LogPrefix(direction, rule)}\" group {PolicyNames.NflogGroup} {(Node.Deny == PolicyDeny.Reject ? "reject" : "drop")}";

    public IReadOnlyDictionary<string, string> NamespaceLabels(string ns) =>
        _namespaceLabels.GetValueOrDefault(ns) ?? new Dictionary<string, string> { [NamespaceInfo.NameLabel] = ns };

    /// <summary>A set made once under its name, its elements computed only then.</summary>
    public string Set(string name, string type, NftSetFlags flags, Func<IEnumerable<string>> elements)
    {
        if (!Plan.Sets.ContainsKey(name))
        {
            var map = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var element in elements())
            {
                map[element] = null;
            }
            Plan.Sets[name] = new PlannedSet(new NftSet(name, type, Flags: flags), map);
        }
        return name;
    }

    public static bool InFamily(System.Net.IPAddress address, AddressFamily family) => address.AddressFamily == family;
}
