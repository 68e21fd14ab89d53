using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Kernel;
using Podnet.Policy;

// bench/policy: POLICIES NetworkPolicies over PODS pods on three nodes, compiled for node n1 and
// applied with nft -f into a throwaway namespace (pn-bpol-*, removed at the end); then one
// policy changed and one pod added, each timed from the compile to the end of its transaction.
// With CNPS (third argument, default 100) the same again in a second namespace with that many
// ClusterNetworkPolicies as well, half in each tier, printed beside the NetworkPolicy-only run.
var policiesCount = args.Length > 0 ? int.Parse(args[0]) : 1000;
var podsCount = args.Length > 1 ? int.Parse(args[1]) : 500;
var clusterCount = args.Length > 2 ? int.Parse(args[2]) : 100;
const int Namespaces = 50;
var without = Run(0, "without ClusterNetworkPolicies");
if (clusterCount > 0)
{
    var with = Run(clusterCount, $"with {clusterCount} ClusterNetworkPolicies");
    // The NetworkPolicy-only run again, now as warm as the CNP run: the ratio is against it.
    without = Run(0, "without ClusterNetworkPolicies, again");
    Console.WriteLine($"full sync with {clusterCount} CNPs: {with:F0} ms, {with / without:F2}× the NetworkPolicy-only {without:F0} ms (issue 21 target: ≤ 2,500 ms)");
}

double Run(int cnps, string title)
{
    var name = $"pn-bpol-{Environment.ProcessId}-{cnps}";
    using var netns = Netns.Create(name);
    try
    {
        Console.WriteLine($"-- {title}");
        PodPortInfo[] ports = [new("http", 80, "TCP"), new("dns", 53, "UDP")];
        var pods = Enumerable.Range(0, podsCount).Select(i => Pod(i)).ToList();
        var namespaces = Enumerable.Range(0, Namespaces).Select(n => new NamespaceInfo($"ns{n}", new Dictionary<string, string> { [NamespaceInfo.NameLabel] = $"ns{n}", ["team"] = $"t{n % 7}" })).ToArray();
        var policies = Enumerable.Range(0, policiesCount).Select(i => Policy(i, 0)).ToList();
        var clusterPolicies = Enumerable.Range(0, cnps).Select(i => ClusterPolicy(i, 0)).ToList();
        var node = new PolicyNode("n1", [AddressFamily.InterNetwork]);
        var syncer = new PolicySyncer();
        var runner = new NftRunner(netns);

        (double Compile, double Apply, int Lines) Sync()
        {
            var watch = Stopwatch.StartNew();
            var plan = PolicyCompiler.Compile(new PolicySnapshot(policies, pods, namespaces, clusterPolicies), node);
            var change = syncer.Plan(plan);
            var compiled = watch.Elapsed.TotalMilliseconds;
            runner.Apply(change.Transaction);
            change.Commit();
            return (compiled, watch.Elapsed.TotalMilliseconds - compiled, change.Transaction.Operations.Count);
        }

        // One compile before the timed ones, so the first run does not carry the JIT alone.
        PolicyCompiler.Compile(new PolicySnapshot(policies, pods, namespaces, clusterPolicies), node);
        var full = Sync();
        Console.WriteLine($"full: {policiesCount} policies, {podsCount} pods: compile {full.Compile:F0} ms, nft -f {full.Apply:F0} ms, total {full.Compile + full.Apply:F0} ms, {full.Lines} commands");
        var changes = new List<double>();
        var added = new List<double>();
        var changeCompile = new List<double>();
        var addCompile = new List<double>();
        for (var round = 1; round <= 20; round++)
        {
            policies[round] = Policy(round, round);
            var c = Sync();
            changes.Add(c.Compile + c.Apply);
            changeCompile.Add(c.Compile);
            pods.Add(Pod(podsCount + round));
            var a = Sync();
            added.Add(a.Compile + a.Apply);
            addCompile.Add(a.Compile);
        }
        Console.WriteLine($"one policy changed: median {Median(changes):F1} ms (compile {Median(changeCompile):F1}), max {changes.Max():F1} ms");
        Console.WriteLine($"one pod added: median {Median(added):F1} ms (compile {Median(addCompile):F1}), max {added.Max():F1} ms");
        if (cnps > 0)
        {
            var cnpChanges = new List<double>();
            for (var round = 1; round <= 20; round++)
            {
                clusterPolicies[round % cnps] = ClusterPolicy(round % cnps, round);
                var c = Sync();
                cnpChanges.Add(c.Compile + c.Apply);
            }
            Console.WriteLine($"one CNP changed: median {Median(cnpChanges):F1} ms, max {cnpChanges.Max():F1} ms");
        }
        return full.Compile + full.Apply;

        PodInfo Pod(int i) => new($"ns{i % Namespaces}", $"p{i}", $"u{i}", $"n{i % 3 + 1}",
            new Dictionary<string, string> { ["app"] = $"app{i % 20}", ["role"] = $"r{i % 5}" },
            [IPAddress.Parse($"10.244.{i % 3 + 1}.{i / 3 % 250 + 2}")], ports);

        NetworkPolicyInfo Policy(int i, int version) => new($"ns{i % Namespaces}", $"pol{i}",
            new LabelSelectorInfo(new Dictionary<string, string> { ["app"] = $"app{i % 20}" }, []),
            true, i % 2 == 0,
            [new PolicyRuleInfo(
                [new PolicyPeerInfo(new LabelSelectorInfo(new Dictionary<string, string> { ["role"] = $"r{(i + version) % 5}" }, []), null, null),
                 new PolicyPeerInfo(null, new LabelSelectorInfo(new Dictionary<string, string> { ["team"] = $"t{i % 7}" }, []), null)],
                [new PolicyPortInfo("TCP", 80), new PolicyPortInfo("UDP", null, "dns")])],
            [new PolicyRuleInfo([new PolicyPeerInfo(null, null, new IpBlockInfo(IPNetwork.Parse("10.244.0.0/16"), [IPNetwork.Parse($"10.244.{i % 3 + 1}.0/24")]))], [])]);

        // Even: Admin, subject the namespaces of a team; ingress Pass from the team, Deny from a role
        // anywhere, Accept from the monitoring-like app0; egress Deny to a network. Odd: Baseline,
        // subject pods of an app; ingress Deny from every namespace on TCP 80.
        ClusterNetworkPolicyInfo ClusterPolicy(int i, int version) => i % 2 == 0
            ? new($"cnp{i}", ClusterPolicyTier.Admin, i % 1000,
                new LabelSelectorInfo(new Dictionary<string, string> { ["team"] = $"t{i % 7}" }, []), null,
                [new("same-team", ClusterPolicyAction.Pass, new PolicyRuleInfo([new PolicyPeerInfo(null, new LabelSelectorInfo(new Dictionary<string, string> { ["team"] = $"t{i % 7}" }, []), null)], [])),
                 new("role", ClusterPolicyAction.Deny, new PolicyRuleInfo([new PolicyPeerInfo(new LabelSelectorInfo(new Dictionary<string, string> { ["role"] = $"r{(i + version) % 5}" }, []), LabelSelectorInfo.Everything, null)], [])),
                 new("monitoring", ClusterPolicyAction.Accept, new PolicyRuleInfo([new PolicyPeerInfo(new LabelSelectorInfo(new Dictionary<string, string> { ["app"] = "app0" }, []), LabelSelectorInfo.Everything, null)], []))],
                [new("no-outside", ClusterPolicyAction.Deny, new PolicyRuleInfo([new PolicyPeerInfo(null, null, new IpBlockInfo(IPNetwork.Parse($"192.0.{i % 250}.0/24"), []))], []))])
            : new($"cnp{i}", ClusterPolicyTier.Baseline, i % 1000,
                LabelSelectorInfo.Everything, new LabelSelectorInfo(new Dictionary<string, string> { ["app"] = $"app{(i + version) % 20}" }, []),
                [new("default-deny", ClusterPolicyAction.Deny, new PolicyRuleInfo([new PolicyPeerInfo(null, LabelSelectorInfo.Everything, null)], [new PolicyPortInfo("TCP", 80)]))],
                []);
    }
    finally
    {
        Netns.Delete(name);
    }
}

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
