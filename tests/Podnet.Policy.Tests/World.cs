using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Podnet.Controllers.Projections;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Testing;

namespace Podnet.Policy.Tests;

/// <summary>
/// The upstream model as records: namespaces x, y, z (ns=x|y|z), pods a, b, c in each (pod=a|b|c)
/// serving TCP and UDP on 80 and 81 (serve-80-tcp …), spread over nodes n1 and n2. Policies are
/// written as YAML and projected as the agent projects them; each node's table is compiled,
/// synced into its own fake runner, and a connection is traced through the sender's node and
/// the receiver's node, as the packet would pass them.
/// </summary>
internal sealed class World
{
    public static readonly string[] Nodes = ["n1", "n2"];
    private static readonly Dictionary<string, string> s_nodeIPs = new() { ["n1"] = "172.18.0.11", ["n2"] = "172.18.0.12" };

    private readonly Dictionary<string, PodInfo> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NamespaceInfo> _namespaces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NetworkPolicyInfo> _policies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClusterNetworkPolicyInfo> _clusterPolicies = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<AddressFamily> _families;

    public World(bool dualStack = false, PolicyDeny deny = PolicyDeny.Drop)
    {
        _families = dualStack ? [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6] : [AddressFamily.InterNetwork];
        Deny = deny;
        var index = 0;
        foreach (var ns in new[] { "x", "y", "z" })
        {
            SetNamespace(ns, new() { ["ns"] = ns });
            foreach (var pod in new[] { "a", "b", "c" })
            {
                index++;
                var node = Nodes[index % 2];
                var host = 10 + index;
                var addresses = new List<string> { $"10.244.{(node == "n1" ? 1 : 2)}.{host}" };
                if (dualStack)
                {
                    addresses.Add($"fd00:10:244:{(node == "n1" ? 1 : 2)}::{host:x}");
                }
                AddPod(ns, pod, node, new() { ["pod"] = pod }, addresses.ToArray());
            }
        }
    }

    public PolicyDeny Deny { get; }

    public Dictionary<string, FakeNftRunner> Runners { get; } = Nodes.ToDictionary(n => n, _ => new FakeNftRunner());

    public Dictionary<string, PolicySyncer> Syncers { get; } = Nodes.ToDictionary(n => n, _ => new PolicySyncer());

    public Dictionary<string, PolicyPlan> Plans { get; } = new(StringComparer.Ordinal);

    public static PodPortInfo[] ModelPorts => [new("serve-80-tcp", 80, "TCP"), new("serve-81-tcp", 81, "TCP"), new("serve-80-udp", 80, "UDP"), new("serve-81-udp", 81, "UDP")];

    public PodInfo Pod(string key) => _pods[key];

    public World AddPod(string ns, string name, string node, Dictionary<string, string> labels, string[] addresses, PodPortInfo[]? ports = null)
    {
        _pods[$"{ns}/{name}"] = new PodInfo(ns, name, $"uid-{ns}-{name}", node, labels, addresses.Select(IPAddress.Parse).ToArray(), ports ?? ModelPorts);
        return this;
    }

    public World RemovePod(string key)
    {
        _pods.Remove(key);
        return this;
    }

    public World Relabel(string podKey, Dictionary<string, string> labels)
    {
        _pods[podKey] = _pods[podKey] with { Labels = labels };
        return this;
    }

    public World SetNamespace(string name, Dictionary<string, string> labels)
    {
        _namespaces[name] = ObjectProjection.ToNamespaceInfo(new V1Namespace { Metadata = new V1ObjectMeta { Name = name, Labels = labels } });
        return this;
    }

    /// <summary>Applies one or more YAML NetworkPolicies or ClusterNetworkPolicies (--- separated), as `kubectl apply` would.</summary>
    public World Apply(string yaml)
    {
        foreach (var document in yaml.Split("\n---\n"))
        {
            if (document.Contains("kind: ClusterNetworkPolicy", StringComparison.Ordinal))
            {
                var json = YamlJson.Parse(document);
                var cnp = ObjectProjection.ToClusterNetworkPolicyInfo((string)json["metadata"]!["name"]!, json["spec"]);
                _clusterPolicies[cnp.Key] = cnp;
                continue;
            }
            var policy = ObjectProjection.ToNetworkPolicyInfo(KubernetesYaml.Deserialize<V1NetworkPolicy>(document));
            _policies[policy.Key] = policy;
        }
        return this;
    }

    public World Delete(string policyKey)
    {
        Assert.True(_policies.Remove(policyKey) || _clusterPolicies.Remove(policyKey));
        return this;
    }

    public PolicySnapshot Snapshot => new(_policies.Values.ToArray(), _pods.Values.ToArray(), _namespaces.Values.ToArray(), _clusterPolicies.Values.ToArray());

    /// <summary>Compiles and applies every node's table; returns the transactions applied.</summary>
    public Dictionary<string, NftTransaction> Sync()
    {
        var applied = new Dictionary<string, NftTransaction>(StringComparer.Ordinal);
        foreach (var node in Nodes)
        {
            var plan = PolicyCompiler.Compile(Snapshot, new PolicyNode(node, _families, Deny));
            var change = Syncers[node].Plan(plan);
            Runners[node].Apply(change.Transaction);
            change.Commit();
            Plans[node] = plan;
            applied[node] = change.Transaction;
        }
        return applied;
    }

    /// <summary>
    /// What a new connection from pod <paramref name="from"/> to pod <paramref name="to"/>
    /// gets: "accept", "drop" or "reject", through the sender's node then the receiver's.
    /// </summary>
    public string Connect(string from, string to, int port = 80, string protocol = "tcp", AddressFamily family = AddressFamily.InterNetwork)
    {
        var source = _pods[from].Addresses.First(a => a.AddressFamily == family);
        var destination = _pods[to].Addresses.First(a => a.AddressFamily == family);
        return Send(source, destination, [_pods[from].NodeName!, _pods[to].NodeName!], port, protocol);
    }

    /// <summary>A packet from any address to any address, through the given nodes' forward paths.</summary>
    public string Send(IPAddress source, IPAddress destination, IEnumerable<string> nodes, int port = 80, string protocol = "tcp", NftCtState state = NftCtState.New)
    {
        foreach (var node in nodes.Distinct())
        {
            var packet = new NftPacket(source, destination, protocol, 40000, port, state);
            var results = Runners[node].Tracer(s_nodeIPs[node]).Trace(packet);
            var result = Assert.Single(results);
            if (result.Verdict != NftVerdictKind.Accept)
            {
                return result.Verdict.ToString().ToLowerInvariant();
            }
        }
        return "accept";
    }

    /// <summary>The 9×9 matrix for one port: "." reachable, "X" not, rows from, columns to, loopback included.</summary>
    public string Matrix(int port = 80, string protocol = "tcp")
    {
        var keys = _pods.Keys.Where(k => k.Length == 3).Order(StringComparer.Ordinal).ToArray();
        var rows = keys.Select(from => from + " " + string.Concat(keys.Select(to => Connect(from, to, port, protocol) == "accept" ? "." : "X")));
        return string.Join("\n", rows);
    }

    /// <summary>A matrix where everything is reachable except the listed (from, to) pairs.</summary>
    public static string Expect(params (string From, string To)[] denied) => ExpectWhere((f, t) => !denied.Contains((f, t)));

    public static string ExpectWhere(Func<string, string, bool> allowed)
    {
        var keys = new[] { "x", "y", "z" }.SelectMany(n => new[] { "a", "b", "c" }.Select(p => $"{n}/{p}")).ToArray();
        return string.Join("\n", keys.Select(from => from + " " + string.Concat(keys.Select(to => allowed(from, to) || from == to ? "." : "X"))));
    }
}
