using k8s;
using k8s.Models;
using Podnet.Check;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// `podnet check` and `podnet trace` through the published bin/podnet on the three-node island lab of
/// <see cref="LabFixture"/>: every test passes on the healthy lab, and on a lab broken on purpose
/// (DNS pods isolated by a policy in kube-system; a node's route to another node's pods taken
/// away inside its namespace) it exits non-zero naming the broken tests. Each break is undone
/// in a finally, so the tests run in any order.
/// </summary>
public sealed class CheckLabTests(LabFixture lab) : IClassFixture<LabFixture>
{
    [PrivilegedFact]
    public async Task Check_HealthyLab_EveryTestPassesAndTheNamespaceIsDeleted()
    {
        var run = lab.Run("check", "--lab", lab.Name);
        var rows = Rows(run.StandardOutput);
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        Assert.Equal(
            [
                "pod-to-pod/same-node", "pod-to-pod/other-node", "service/kubernetes", "service/cluster-ip", "service/cluster-ip-udp", "service/no-endpoints",
                "service/node-port", "service/node-port-outside", "service/load-balancer", "service/load-balancer-outside",
                "dns/cluster-name", "dns/search-path", "dns/node-without-dns", "policy/allow", "policy/deny", "egress/outside", "mtu/other-node",
            ],
            rows.Keys);
        Assert.All(rows.Values, r => Assert.Equal("ok", r.Result));
        Assert.Equal(("refuse", "refuse"), (rows["service/no-endpoints"].Expected, rows["service/no-endpoints"].Observed));
        Assert.Equal(("drop", "drop"), (rows["policy/deny"].Expected, rows["policy/deny"].Observed));
        Assert.EndsWith("17 passed, 0 failed, 0 skipped", run.StandardOutput.Trim(), StringComparison.Ordinal);
        await AssertNoCheckNamespaceLeftAsync();
    }

    [PrivilegedFact]
    public async Task Check_DnsPodsIsolatedByAPolicyInKubeSystem_FailsTheDnsTestsByName()
    {
        var deny = new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "check-test-deny-dns", NamespaceProperty = "kube-system" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["k8s-app"] = "kube-dns" } },
                PolicyTypes = ["Ingress"],
            },
        };
        await lab.Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(deny, "kube-system");
        try
        {
            var run = lab.Run("check", "--lab", lab.Name, "--test", "dns/*");
            var rows = Rows(run.StandardOutput);
            Assert.Equal(1, run.ExitCode);
            Assert.Equal(["dns/cluster-name", "dns/search-path", "dns/node-without-dns"], rows.Keys);
            Assert.All(rows.Values, r => Assert.Equal(("connect", "drop", "FAIL"), (r.Expected, r.Observed, r.Result)));
            Assert.EndsWith("0 passed, 3 failed, 0 skipped", run.StandardOutput.Trim(), StringComparison.Ordinal);
        }
        finally
        {
            await lab.Client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(deny.Metadata.Name, "kube-system");
        }
        await AssertNoCheckNamespaceLeftAsync();
    }

    [PrivilegedFact]
    public async Task Check_NodeWithoutItsRouteToAnotherNodesPods_FailsThePodToPodTestAcrossNodes()
    {
        // The client's node and the other server's, as the check places them.
        var nodes = (await lab.Client.CoreV1.ListNodeAsync()).Items.ToDictionary(n => n.Metadata.Name);
        var dns = (await lab.Client.DiscoveryV1.ListNamespacedEndpointSliceAsync("kube-system", labelSelector: "kubernetes.io/service-name=kube-dns")).Items
            .SelectMany(s => s.Endpoints).Select(e => e.NodeName).ToHashSet();
        var placement = CheckManifests.Place(nodes.Keys.ToArray(), dns);
        Assert.NotEqual(placement.NodeA, placement.NodeB);
        var cidr = nodes[placement.NodeB].Spec.PodCIDR;
        // The agent puts its routes back on any Node event (each node's status every 30 s), so the
        // route is taken away by a blackhole rule before the main table, which no agent manages:
        // inside node A's namespace only, never the root namespace.
        using var node = lab.HostNetns(placement.NodeA);
        Assert.True(ProcessRunner.Run(node, "ip", ["rule", "add", "to", cidr, "blackhole", "pref", "100"]).Success);
        try
        {
            var run = lab.Run("check", "--lab", lab.Name, "--test", "pod-to-pod");
            var rows = Rows(run.StandardOutput);
            Assert.Equal(1, run.ExitCode);
            Assert.Equal(("connect", "connect", "ok"), (rows["pod-to-pod/same-node"].Expected, rows["pod-to-pod/same-node"].Observed, rows["pod-to-pod/same-node"].Result));
            Assert.Equal(("connect", "drop", "FAIL"), (rows["pod-to-pod/other-node"].Expected, rows["pod-to-pod/other-node"].Observed, rows["pod-to-pod/other-node"].Result));
        }
        finally
        {
            ProcessRunner.Run(node, "ip", ["rule", "del", "to", cidr, "blackhole", "pref", "100"]);
        }
        await AssertNoCheckNamespaceLeftAsync();
    }

    [PrivilegedFact]
    public async Task Check_Keep_LeavesTheNamespaceWithItsPods()
    {
        var run = lab.Run("check", "--lab", lab.Name, "--test", "same-node", "--keep");
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        var kept = (await lab.Client.CoreV1.ListNamespaceAsync(labelSelector: CheckManifests.NamespaceLabel + "=true")).Items.Single().Metadata.Name;
        try
        {
            Assert.Contains($"namespace {kept} kept", run.StandardOutput, StringComparison.Ordinal);
            Assert.Contains(CheckPlanner.Client, (await lab.Client.CoreV1.ListNamespacedPodAsync(kept)).Items.Select(p => p.Metadata.Name));
        }
        finally
        {
            await lab.Client.CoreV1.DeleteNamespaceAsync(kept);
        }
        await AssertNoCheckNamespaceLeftAsync();
    }

    [PrivilegedFact]
    public async Task Trace_PodToServiceByNameOnAnotherNode_EndpointNatAndRoutesConfirmedByTheKernel()
    {
        const string ns = "trace-e2e";
        await lab.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        try
        {
            V1Pod Pod(string name, string node)
            {
                var pod = LabFixture.ServerPod(name, node);
                pod.Metadata.NamespaceProperty = ns;
                return pod;
            }

            await lab.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "ts" },
                Spec = new V1ServiceSpec
                {
                    Selector = new Dictionary<string, string> { ["app"] = "ts" },
                    Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = 8080 }, new V1ServicePort { Name = "udp", Port = 81, TargetPort = 8081, Protocol = "UDP" }],
                },
            }, ns);
            var pods = await Task.WhenAll(lab.RunPodAsync(Pod("tc", "n1")), lab.RunPodAsync(Pod("ts", "n2")));
            var server = pods[1].Status.PodIP;
            var n2 = (string)lab.Status["nodes"]!.AsArray().Single(n => (string)n!["name"]! == "n2")!["address"]!;
            // The endpoint must be in the slice (and so in the proxy's map) before the request.
            await WaitAsync(async () => (await lab.Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.SelectMany(e => e.Endpoints ?? []).Any());
            var run = lab.Run("trace", "--lab", lab.Name, "-n", ns, "tc", "ts:80", "-o", "json");
            Assert.True(run.Success, run.StandardOutput + run.StandardError);
            var json = System.Text.Json.Nodes.JsonNode.Parse(run.StandardOutput)!;
            var steps = Steps(json);
            Assert.Contains(steps, s => s.Item1 == "L7" && s.Item3.StartsWith("ts resolved to ", StringComparison.Ordinal) && s.Item4);
            Assert.Contains(("L4", "n1", $"Service {ns}/ts port 80/TCP (ClusterIP) -> endpoint {server}:8080 (pod {ns}/ts on n2)", true), steps);
            Assert.Contains(steps, s => s.Item2 == "n1" && s.Item3.Contains("ip podnet-proxy", StringComparison.Ordinal) && s.Item3.Contains("dnat", StringComparison.Ordinal) && s.Item4);
            Assert.Contains(("L3", "n1", $"route: {server} via {n2} dev eth0", true), steps);
            Assert.Contains(("L3", "n2", "arrived on eth0", true), steps);
            Assert.Contains(("L3", "n2", $"route: {server} dev pn0", true), steps);
            Assert.DoesNotContain(steps, s => s.Item3.StartsWith("DROPPED", StringComparison.Ordinal));
            Assert.Equal("connect", (string)json["result"]!["outcome"]!);
            // L2: the frame's source MAC on a port of n1's bridge, the next hop n2 resolved on eth0, and on n2 the endpoint's MAC behind a port of pn0.
            var client = pods[0].Status.PodIP;
            Assert.Contains(steps, s => s is ("L2", "n1", _, true) && s.Item3.StartsWith("frame from ", StringComparison.Ordinal) && s.Item3.Contains(" entered bridge pn0 on port ", StringComparison.Ordinal));
            Assert.Contains(steps, s => s is ("L2", "n1", _, true) && s.Item3.StartsWith("out eth0 ", StringComparison.Ordinal) && s.Item3.Contains($" to {n2} at ", StringComparison.Ordinal));
            Assert.Contains(steps, s => s is ("L2", "n2", _, true) && s.Item3.StartsWith("out pn0 (bridge) ", StringComparison.Ordinal) && s.Item3.Contains($" to {server} at ", StringComparison.Ordinal));
            Assert.Contains(steps, s => s is ("L2", "n2", _, true) && s.Item3.Contains(" is behind bridge port ", StringComparison.Ordinal));
            // The reply path: back from the endpoint on n2, un-DNATed on n1 by conntrack, routed to the pod's bridge.
            var clusterIp = (await lab.Client.CoreV1.ReadNamespacedServiceAsync("ts", ns)).Spec.ClusterIP;
            Assert.Contains(("reply", "n2", $"from {server} arrived on pn0", true), steps);
            Assert.Contains(("reply", "n1", $"from {server} arrived on eth0", true), steps);
            Assert.Contains(("reply", "n1", $"source {server}:8080 turned back into {clusterIp}:80 (un-DNAT)", true), steps);
            Assert.Contains(("reply", "n1", $"route: {client} dev pn0", true), steps);

            // The same Service over UDP: one datagram, its endpoint from conntrack, the reply seen.
            var udp = lab.Run("trace", "--lab", lab.Name, "-n", ns, "tc", "ts:81/udp", "-o", "json");
            Assert.True(udp.Success, udp.StandardOutput + udp.StandardError);
            var udpJson = System.Text.Json.Nodes.JsonNode.Parse(udp.StandardOutput)!;
            var udpSteps = Steps(udpJson);
            Assert.Contains(("L4", "n1", $"Service {ns}/ts port 81/UDP (ClusterIP) -> endpoint {server}:8081 (pod {ns}/ts on n2)", true), udpSteps);
            Assert.Contains(("reply", "n2", $"from {server} arrived on pn0", true), udpSteps);
            Assert.Equal(("connect", "udp reply: ts"), ((string)udpJson["result"]!["outcome"]!, (string)udpJson["result"]!["evidence"]!));
            // Trace's tables are gone from every node; the agents' are there as before.
            foreach (var node in new[] { "n1", "n2", "n3" })
            {
                using var netns = lab.HostNetns(node);
                var tables = ProcessRunner.Run(netns, "nft", ["list", "tables"]).StandardOutput;
                Assert.DoesNotContain(TracePlanPrefix, tables, StringComparison.Ordinal);
                Assert.Contains("podnet-proxy", tables, StringComparison.Ordinal);
            }
        }
        finally
        {
            await lab.Client.CoreV1.DeleteNamespaceAsync(ns);
        }
    }

    [PrivilegedFact]
    public async Task Trace_PacketDroppedByPolicy_NamesThePolicyChainThatDropped()
    {
        const string ns = "trace-drop";
        await lab.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        try
        {
            await lab.Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
            {
                Metadata = new V1ObjectMeta { Name = "deny" },
                Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "td" } }, PolicyTypes = ["Ingress"] },
            }, ns);
            var client = LabFixture.ServerPod("tk", "n1");
            client.Metadata.NamespaceProperty = ns;
            var server = LabFixture.ServerPod("td", "n2");
            server.Metadata.NamespaceProperty = ns;
            var pods = await Task.WhenAll(lab.RunPodAsync(client), lab.RunPodAsync(server));
            var run = lab.Run("trace", "--lab", lab.Name, "-n", ns, "tk", pods[1].Status.PodIP + ":8080");
            Assert.Equal(1, run.ExitCode);
            var lines = run.StandardOutput.Split('\n');
            Assert.Contains(lines, l => l.Contains("confirmed    n2: DROPPED by inet podnet-policy in-", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("result: drop", StringComparison.Ordinal));
        }
        finally
        {
            await lab.Client.CoreV1.DeleteNamespaceAsync(ns);
        }
    }

    [PrivilegedFact]
    public async Task Trace_ServiceWithoutEndpoints_NamesTheRejectingRuleAndWhy()
    {
        const string ns = "trace-none";
        await lab.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        try
        {
            var service = await lab.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "none" },
                Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "nothing" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
            }, ns);
            var client = LabFixture.ServerPod("tn", "n1");
            client.Metadata.NamespaceProperty = ns;
            await lab.RunPodAsync(client);
            var run = lab.Run("trace", "--lab", lab.Name, "-n", ns, "tn", service.Spec.ClusterIP + ":80");
            Assert.Equal(1, run.ExitCode);
            var lines = run.StandardOutput.Split('\n');
            // Where: the proxy's rule on n1; why: the Service has no ready endpoints; and the pod saw a refusal, not silence.
            Assert.Contains(lines, l => l.Contains("confirmed    n1: DROPPED by ip podnet-proxy ", StringComparison.Ordinal) && l.Contains("reject", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains($"n1: why: Service {ns}/none port 80/TCP (ClusterIP) has no ready endpoints, so the proxy rejects its traffic", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("result: refuse", StringComparison.Ordinal));
        }
        finally
        {
            await lab.Client.CoreV1.DeleteNamespaceAsync(ns);
        }
    }

    [PrivilegedFact]
    public async Task Trace_NodePortFromTheOutsideHost_ArrivesOnTheNodesEth0AndIsDnatedToTheEndpoint()
    {
        const string ns = "trace-np";
        await lab.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        try
        {
            var service = await lab.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "np" },
                Spec = new V1ServiceSpec { Type = "NodePort", Selector = new Dictionary<string, string> { ["app"] = "np" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
            }, ns);
            var server = LabFixture.ServerPod("np", "n2");
            server.Metadata.NamespaceProperty = ns;
            var ip = (await lab.RunPodAsync(server)).Status.PodIP;
            await WaitAsync(async () => (await lab.Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.SelectMany(e => e.Endpoints ?? []).Any());
            var n2 = (string)lab.Status["nodes"]!.AsArray().Single(n => (string)n!["name"]! == "n2")!["address"]!;
            var port = service.Spec.Ports[0].NodePort;
            var run = lab.Run("trace", "--lab", lab.Name, "--outside", $"{n2}:{port}", "-o", "json");
            Assert.True(run.Success, run.StandardOutput + run.StandardError);
            var json = System.Text.Json.Nodes.JsonNode.Parse(run.StandardOutput)!;
            Assert.StartsWith("outside host (", (string)json["from"]!, StringComparison.Ordinal);
            var steps = Steps(json);
            Assert.Contains(($"L4", "n2", $"Service {ns}/np port 80/TCP (NodePort {port}) -> endpoint {ip}:8080 (pod {ns}/np on n2)", true), steps);
            Assert.Contains(("L3", "n2", "arrived on eth0", true), steps);
            Assert.Contains(steps, s => s is ("L2", "n2", _, true) && s.Item3.StartsWith("out pn0 (bridge) ", StringComparison.Ordinal) && s.Item3.Contains($" to {ip} at ", StringComparison.Ordinal));
            Assert.Equal("connect", (string)json["result"]!["outcome"]!);
        }
        finally
        {
            await lab.Client.CoreV1.DeleteNamespaceAsync(ns);
        }
    }

    /// <summary>
    /// `podnet check --kubeconfig` with the lab's kubeconfig and nothing else, as a cluster's user
    /// runs it: probes go into the pods through the API server's pods/exec; every test the
    /// lab's own run has gives the same verdict, and the three that need the outside host are skipped.
    /// </summary>
    [PrivilegedFact]
    public async Task Check_ByTheLabsKubeconfigOnly_ProbesThroughPodsExecWithTheSameVerdicts()
    {
        var run = lab.Run("check", "--kubeconfig", (string)lab.Status["kubeconfig"]!);
        var rows = Rows(run.StandardOutput);
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        Assert.Equal(17, rows.Count);
        Assert.Equal(["egress/outside", "service/load-balancer-outside", "service/node-port-outside"], rows.Where(r => r.Value.Result == "skip").Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.All(rows.Where(r => r.Value.Result != "skip"), r => Assert.Equal(("ok", r.Value.Expected), (r.Value.Result, r.Value.Observed)));
        Assert.Equal(("refuse", "refuse"), (rows["service/no-endpoints"].Expected, rows["service/no-endpoints"].Observed));
        Assert.Equal(("drop", "drop"), (rows["policy/deny"].Expected, rows["policy/deny"].Observed));
        Assert.EndsWith("14 passed, 0 failed, 3 skipped", run.StandardOutput.Trim(), StringComparison.Ordinal);
        await AssertNoCheckNamespaceLeftAsync();
    }

    private const string TracePlanPrefix = Podnet.Check.Trace.TracePlan.TablePrefix;

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 60 s");
            await Task.Delay(200);
        }
    }

    /// <summary>A trace's JSON steps as (layer, node, text, confirmed).</summary>
    internal static (string Layer, string? Node, string Text, bool Confirmed)[] Steps(System.Text.Json.Nodes.JsonNode json) =>
        json["steps"]!.AsArray().Select(s => ((string)s!["layer"]!, (string?)s["node"], (string)s["text"]!, (bool)s["confirmed"]!)).ToArray();

    /// <summary>The table's rows by test name: expected, observed, result.</summary>
    internal static Dictionary<string, (string Expected, string Observed, string Result)> Rows(string output) =>
        output.Split('\n').SkipWhile(l => !l.StartsWith("TEST ", StringComparison.Ordinal)).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 5 && f[0].Contains('/'))
            .ToDictionary(f => f[0], f => (f[1], f[2], f[4]));

    /// <summary>The check's namespaces are gone (deleted namespaces finish terminating within the bound).</summary>
    private async Task AssertNoCheckNamespaceLeftAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        IList<V1Namespace> left;
        do
        {
            left = (await lab.Client.CoreV1.ListNamespaceAsync(labelSelector: CheckManifests.NamespaceLabel + "=true")).Items;
            if (left.Count == 0)
            {
                return;
            }
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail("check namespaces left: " + string.Join(", ", left.Select(n => $"{n.Metadata.Name} ({n.Status?.Phase})")));
    }
}
