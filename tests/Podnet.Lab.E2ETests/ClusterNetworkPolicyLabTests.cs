using System.Net.Sockets;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.TestServer;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// ClusterNetworkPolicy tiers with real connections, in a lab with `--policy-deny reject` (a
/// denied connection is refused at once, so every probe ends quickly either way): a Baseline
/// Deny applies to pods no NetworkPolicy isolates and a NetworkPolicy allow overrides it, an
/// Admin Deny beats the NetworkPolicy allow, an Admin Pass hands the decision back to it, and
/// an Admin Accept beats the NetworkPolicy's isolation; the drops name the CNP rule that denied,
/// and the agents write each policy's Accepted condition.
/// </summary>
public sealed class ClusterNetworkPolicyLabTests(ClusterNetworkPolicyLab fixture) : IClassFixture<ClusterNetworkPolicyLab>
{
    private const string Group = "policy.networking.k8s.io";
    private const string Version = "v1alpha2";
    private const string Plural = "clusternetworkpolicies";

    [PrivilegedFact]
    public async Task Tiers_AdminBeforeNetworkPolicy_BaselineAfter_WithRealConnections()
    {
        var lab = fixture.Lab;
        var client = lab.View.Client;
        foreach (var ns in new[] { "x", "y", "z" })
        {
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        }
        var server = await lab.View.RunPodAsync(InNamespace(LabFixtureView.ServerPod("server", "n1"), "x"));
        var fromY = await lab.View.RunPodAsync(InNamespace(LabFixtureView.ServerPod("client", "n2"), "y"));
        var fromZ = await lab.View.RunPodAsync(InNamespace(LabFixtureView.ServerPod("client", "n1"), "z"));
        using var y = lab.View.PodNetns(fromY);
        using var z = lab.View.PodNetns(fromZ);
        async Task Expect(string what, ConnectOutcome fromYOutcome, ConnectOutcome fromZOutcome)
        {
            await ExpectAsync(what + ", from y", y, server.Status.PodIP, fromYOutcome);
            await ExpectAsync(what + ", from z", z, server.Status.PodIP, fromZOutcome);
        }

        await Expect("no policy", ConnectOutcome.Connected, ConnectOutcome.Connected);

        // The CRD's CEL rule on networks is enforced by the (NativeAOT) API server, as upstream words it.
        var bad = Cnp("bad-network", "Admin", 1, "Deny", "{}");
        bad["spec"]!["egress"] = JsonNode.Parse("""[{"action": "Deny", "to": [{"networks": ["10.0.0.0/33"]}]}]""");
        var refused = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => CreateAsync(client, bad));
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
        Assert.Contains("spec.egress[0].to[0].networks[0]: Invalid value: \"string\": Invalid CIDR format provided", (string?)JsonNode.Parse(refused.Response.Content)!["message"], StringComparison.Ordinal);

        await CreateAsync(client, Cnp("baseline-deny", "Baseline", 10, "Deny", "{}"));
        await Expect("baseline deny", ConnectOutcome.Refused, ConnectOutcome.Refused);
        await ExpectAcceptedAsync(client, "baseline-deny", 1);

        await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "allow-from-y" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector(),
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = ByName("y") }] }],
            },
        }, "x");
        await Expect("a NetworkPolicy allowing y over the baseline deny", ConnectOutcome.Connected, ConnectOutcome.Refused);

        await CreateAsync(client, Cnp("admin-y", "Admin", 10, "Deny", """{"matchLabels": {"kubernetes.io/metadata.name": "y"}}"""));
        await Expect("an admin deny of y over the NetworkPolicy allow", ConnectOutcome.Refused, ConnectOutcome.Refused);
        // The agents' drop counts name the CNP rule that denied, as `policy check` does; z's drops stay the NetworkPolicy's.
        await ExpectDropAsync(lab, y, server.Status.PodIP, @"y/client -> x/server tcp/8080\s+denied by cnp:admin-y Admin/10 ingress\[0\] admin-y-rule");
        await ExpectDropAsync(lab, z, server.Status.PodIP, @"z/client -> x/server tcp/8080\s+isolated by x/allow-from-y");

        await client.CustomObjects.PatchClusterCustomObjectAsync(
            new V1Patch("""{"spec": {"ingress": [{"action": "Pass", "from": [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}}]}]}}""", V1Patch.PatchType.MergePatch),
            Group, Version, Plural, "admin-y");
        await Expect("the admin rule for y now Pass: the NetworkPolicy decides", ConnectOutcome.Connected, ConnectOutcome.Refused);
        await ExpectAcceptedAsync(client, "admin-y", 2);

        await CreateAsync(client, Cnp("admin-accept-z", "Admin", 5, "Accept", """{"matchLabels": {"kubernetes.io/metadata.name": "z"}}"""));
        await Expect("an admin accept of z over the NetworkPolicy's isolation", ConnectOutcome.Connected, ConnectOutcome.Connected);

        await client.CustomObjects.DeleteClusterCustomObjectAsync(Group, Version, Plural, "admin-accept-z");
        await Expect("the admin accept deleted", ConnectOutcome.Connected, ConnectOutcome.Refused);
        await fixture.DeletePoliciesAsync();
    }

    /// <summary>
    /// Upstream's user stories (network-policy-api site-src/user-story-examples) with real
    /// connections: tenants isolated from each other (Pass within a tenant, Deny from the rest),
    /// a monitoring namespace always allowed in (an Admin Accept of higher priority, also over a
    /// NetworkPolicy's deny), and a tenant's egress locked down to the cluster DNS (Accept to
    /// kube-dns, then Deny of every network: resolution works, other connections do not).
    /// </summary>
    [PrivilegedFact]
    public async Task UserStories_TenantIsolation_AlwaysAllowMonitoring_EgressDenyWithDns()
    {
        var lab = fixture.Lab;
        var client = lab.View.Client;
        foreach (var (ns, labels) in new[] { ("a1", "a"), ("a2", "a"), ("b1", "b"), ("monitoring", "") })
        {
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace
            {
                Metadata = new V1ObjectMeta { Name = ns, Labels = labels.Length > 0 ? new Dictionary<string, string> { ["tenant"] = labels } : null },
            });
        }
        var server = await lab.View.RunPodAsync(InNamespace(LabFixtureView.ServerPod("server", "n1"), "a1"));
        var a2 = await lab.View.RunPodAsync(InNamespace(LabFixtureView.ServerPod("client", "n2"), "a2"));
        var b1 = await lab.View.RunPodAsync(InNamespace(LabFixtureView.ServerPod("client", "n1"), "b1"));
        var monitor = await lab.View.RunPodAsync(InNamespace(LabFixtureView.ServerPod("monitor", "n2"), "monitoring"));
        using var fromA2 = lab.View.PodNetns(a2);
        using var fromB1 = lab.View.PodNetns(b1);
        using var fromMonitor = lab.View.PodNetns(monitor);
        async Task Expect(string what, ConnectOutcome a2Outcome, ConnectOutcome b1Outcome, ConnectOutcome monitorOutcome)
        {
            await ExpectAsync(what + ", from a2", fromA2, server.Status.PodIP, a2Outcome);
            await ExpectAsync(what + ", from b1", fromB1, server.Status.PodIP, b1Outcome);
            await ExpectAsync(what + ", from monitoring", fromMonitor, server.Status.PodIP, monitorOutcome);
        }

        foreach (var tenant in new[] { "a", "b" })
        {
            await CreateAsync(client, Policy("""
                {"metadata": {"name": "tenant-TENANT"}, "spec": {"tier": "Admin", "priority": 50,
                 "subject": {"namespaces": {"matchLabels": {"tenant": "TENANT"}}},
                 "ingress": [{"name": "within-tenant", "action": "Pass", "from": [{"namespaces": {"matchLabels": {"tenant": "TENANT"}}}]},
                             {"name": "from-others", "action": "Deny", "from": [{"namespaces": {}}]}]}}
                """.Replace("TENANT", tenant)));
        }
        await Expect("tenants isolated", ConnectOutcome.Connected, ConnectOutcome.Refused, ConnectOutcome.Refused);

        await CreateAsync(client, Policy("""
            {"metadata": {"name": "allow-monitoring"}, "spec": {"tier": "Admin", "priority": 30, "subject": {"namespaces": {}},
             "ingress": [{"name": "allow-monitoring-ns-ingress", "action": "Accept", "from": [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]}]}}
            """));
        await Expect("monitoring always allowed", ConnectOutcome.Connected, ConnectOutcome.Refused, ConnectOutcome.Connected);

        await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "deny-all" },
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
        }, "a1");
        await Expect("a1's NetworkPolicy denies all: the tenant's Pass defers to it, monitoring's Accept beats it",
            ConnectOutcome.Refused, ConnectOutcome.Refused, ConnectOutcome.Connected);

        // Tenant b's egress: kube-dns accepted, every other address denied (upstream's egress lockdown).
        using var toMonitor = lab.View.PodNetns(b1);
        await ExpectAsync("b1 to monitoring before the lockdown", toMonitor, monitor.Status.PodIP, ConnectOutcome.Connected);
        Assert.NotEmpty(await DigAsync(fromB1, answers => answers.Count > 0));
        await CreateAsync(client, Policy("""
            {"metadata": {"name": "egress-lockdown"}, "spec": {"tier": "Admin", "priority": 40,
             "subject": {"namespaces": {"matchLabels": {"tenant": "b"}}},
             "egress": [{"name": "allow-kube-dns", "action": "Accept",
                         "to": [{"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}}],
                         "protocols": [{"udp": {"destinationPort": {"number": 53}}}, {"tcp": {"destinationPort": {"number": 53}}}]},
                        {"name": "deny-the-rest", "action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]}}
            """));
        await ExpectAsync("b1 to monitoring under the lockdown", toMonitor, monitor.Status.PodIP, ConnectOutcome.Refused);
        Assert.NotEmpty(await DigAsync(fromB1, answers => answers.Count > 0));
        await ExpectAcceptedAsync(client, "egress-lockdown", 1);
        await fixture.DeletePoliciesAsync();
    }

    /// <summary>`dig +short kubernetes.default.svc.cluster.local` at the cluster DNS from <paramref name="netns"/> until <paramref name="done"/> (bounded at 30 s).</summary>
    private static async Task<List<string>> DigAsync(Podnet.Kernel.Netns netns, Func<List<string>, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<string> answers;
        do
        {
            var result = Tools.Run(netns, "dig", ["@10.96.0.10", "+short", "+time=2", "+tries=1", "kubernetes.default.svc.cluster.local"]);
            answers = result.Success ? result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith(';')).ToList() : [];
            if (done(answers))
            {
                break;
            }
            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        return answers;
    }

    private static JsonObject Policy(string json)
    {
        var policy = (JsonObject)JsonNode.Parse(json)!;
        policy["apiVersion"] = Group + "/" + Version;
        policy["kind"] = "ClusterNetworkPolicy";
        return policy;
    }

    private static V1Pod InNamespace(V1Pod pod, string ns)
    {
        pod.Metadata.NamespaceProperty = ns;
        return pod;
    }

    private static V1LabelSelector ByName(string ns) => new() { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = ns } };

    /// <summary>An ingress policy for the pods of namespace x: one rule, <paramref name="action"/> from the namespaces <paramref name="from"/> selects.</summary>
    private static JsonObject Cnp(string name, string tier, int priority, string action, string from) => (JsonObject)JsonNode.Parse("""
        {
          "apiVersion": "GROUP/VERSION",
          "kind": "ClusterNetworkPolicy",
          "metadata": {"name": "NAME"},
          "spec": {
            "tier": "TIER",
            "priority": PRIORITY,
            "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "x"}}},
            "ingress": [{"name": "NAME-rule", "action": "ACTION", "from": [{"namespaces": FROM}]}]
          }
        }
        """.Replace("GROUP", Group).Replace("VERSION", Version).Replace("NAME", name).Replace("TIER", tier)
        .Replace("PRIORITY", priority.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("ACTION", action).Replace("FROM", from))!;

    private static Task CreateAsync(Kubernetes client, JsonObject cnp) => client.CustomObjects.CreateClusterCustomObjectAsync(cnp, Group, Version, Plural);

    /// <summary>Waits (bounded) for the agents' Accepted condition on <paramref name="name"/>, True for <paramref name="generation"/>.</summary>
    private static async Task ExpectAcceptedAsync(Kubernetes client, string name, long generation)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonNode? condition;
        do
        {
            var cnp = JsonNode.Parse(KubernetesJson.Serialize(await client.CustomObjects.GetClusterCustomObjectAsync(Group, Version, Plural, name)))!;
            condition = (cnp["status"]?["conditions"] as JsonArray ?? []).FirstOrDefault(c => (string?)c!["type"] == "Accepted");
            if (condition is not null && (long?)condition["observedGeneration"] == generation)
            {
                break;
            }
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.True(condition is not null && (long?)condition["observedGeneration"] == generation, $"{name}: no Accepted condition for generation {generation}: {condition?.ToJsonString()}");
        Assert.Equal("True", (string?)condition!["status"]);
        Assert.Equal("Accepted", (string?)condition["reason"]);
    }

    /// <summary>Connects (denied) until `podnet policy drops -n x` shows a recent drop matching <paramref name="pattern"/> (bounded at 30 s; drops are written once a second).</summary>
    private static async Task ExpectDropAsync(TempLab lab, Podnet.Kernel.Netns from, string address, string pattern)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string shown;
        do
        {
            await from.Run(() => ConnectProbe.RunAsync(address, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
            var drops = lab.Run("policy", "drops", "-n", "x", "--lab", lab.Name);
            Assert.True(drops.Success, drops.StandardError);
            shown = drops.StandardOutput;
            if (System.Text.RegularExpressions.Regex.IsMatch(shown, pattern))
            {
                return;
            }
            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"no recent drop matching {pattern} in:\n{shown}");
    }

    /// <summary>Probes until the outcome is <paramref name="expected"/> (policies apply within a second or so; bounded at 30 s).</summary>
    private static async Task ExpectAsync(string what, Podnet.Kernel.Netns from, string address, ConnectOutcome expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        ConnectResult result;
        do
        {
            result = await from.Run(() => ConnectProbe.RunAsync(address, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
        }
        while (result.Outcome != expected && DateTime.UtcNow < deadline);
        Assert.True(result.Outcome == expected, $"{what}: expected {expected}, got {result.Outcome}");
    }
}

/// <summary>
/// The two-node lab of <see cref="ClusterNetworkPolicyLabTests"/> (`--policy-deny reject`, so a
/// denied connection is refused at once), made once for its tests; each test deletes the
/// policies it made (CNPs and NetworkPolicies), so the next starts from none.
/// </summary>
public sealed class ClusterNetworkPolicyLab : IDisposable
{
    public ClusterNetworkPolicyLab()
    {
        Lab = new TempLab("cn");
        if (Privileges.CanMakeNamespaces)
        {
            try
            {
                Lab.Up("--nodes", "2", "--policy-deny", "reject");
            }
            catch
            {
                Lab.Dispose();
                throw;
            }
        }
    }

    internal TempLab Lab { get; }

    public async Task DeletePoliciesAsync()
    {
        var client = Lab.View.Client;
        await client.CustomObjects.DeleteCollectionClusterCustomObjectAsync("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies");
        foreach (var policy in (await client.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync()).Items)
        {
            await client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(policy.Metadata.Name, policy.Metadata.NamespaceProperty);
        }
    }

    public void Dispose() => Lab.Dispose();
}
