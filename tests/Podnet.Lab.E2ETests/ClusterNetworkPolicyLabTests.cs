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
/// an Admin Accept beats the NetworkPolicy's isolation.
/// </summary>
public sealed class ClusterNetworkPolicyLabTests
{
    private const string Group = "policy.networking.k8s.io";
    private const string Version = "v1alpha2";
    private const string Plural = "clusternetworkpolicies";

    [PrivilegedFact]
    public async Task Tiers_AdminBeforeNetworkPolicy_BaselineAfter_WithRealConnections()
    {
        using var lab = new TempLab("cn");
        lab.Up("--nodes", "2", "--policy-deny", "reject");
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

        await client.CustomObjects.PatchClusterCustomObjectAsync(
            new V1Patch("""{"spec": {"ingress": [{"action": "Pass", "from": [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}}]}]}}""", V1Patch.PatchType.MergePatch),
            Group, Version, Plural, "admin-y");
        await Expect("the admin rule for y now Pass: the NetworkPolicy decides", ConnectOutcome.Connected, ConnectOutcome.Refused);

        await CreateAsync(client, Cnp("admin-accept-z", "Admin", 5, "Accept", """{"matchLabels": {"kubernetes.io/metadata.name": "z"}}"""));
        await Expect("an admin accept of z over the NetworkPolicy's isolation", ConnectOutcome.Connected, ConnectOutcome.Connected);

        await client.CustomObjects.DeleteClusterCustomObjectAsync(Group, Version, Plural, "admin-accept-z");
        await Expect("the admin accept deleted", ConnectOutcome.Connected, ConnectOutcome.Refused);
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
