using System.Text.Json.Nodes;
using k8s;
using Podnet.ApiServer.Tests.Server;
using Podnet.Testing;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>
/// deploy/podnet.yaml, the real-cluster install, against the server with the real kubectl: a
/// server-side dry run and a real apply both pass strict validation, and every object is stored
/// as written. Its RBAC documents are deploy/rbac.yaml's (the file the lab applies).
/// </summary>
public sealed class DeployManifestKubectlTests(ServerFixture server) : KubectlTestBase(server)
{
    private static readonly string PodnetYaml = Path.Combine(RepoPaths.Root, "deploy", "podnet.yaml");
    private static readonly string RbacYaml = Path.Combine(RepoPaths.Root, "deploy", "rbac.yaml");

    /// <summary>kind and name of every document, in file order.</summary>
    private static List<(string Kind, string Name)> Documents(string path) =>
        KubernetesYaml.LoadAllFromString(System.IO.File.ReadAllText(path))
            .Select(o => (IKubernetesObject<k8s.Models.V1ObjectMeta>)o)
            .Select(o => (o.Kind, o.Metadata.Name))
            .ToList();

    [Fact]
    public void PodnetYaml_ServerDryRunThenApply_EveryObjectValidAndStored()
    {
        var documents = Documents(PodnetYaml);
        Assert.Equal(12, documents.Count);

        // As with kube-apiserver, a server-side dry run cannot create objects in a namespace the
        // same run only pretends to create: the namespace first, then the whole file.
        var nsOnly = Kubectl.Run("apply", "--dry-run=server", "--validate=strict", "-f", PodnetYaml);
        Assert.Contains("namespaces \"podnet\" not found", nsOnly.Error);
        Assert.NotEqual(0, Kubectl.Run("get", "namespace", "podnet").ExitCode); // a dry run stores nothing
        Assert.Equal("namespace/podnet created\n", Kubectl.RunWithInput(System.IO.File.ReadAllText(PodnetYaml).Split("\n---\n")[0], "apply", "--validate=strict", "-f", "-").Out);
        var dryRun = Kubectl.Run("apply", "--dry-run=server", "--validate=strict", "-f", PodnetYaml);
        Assert.True(dryRun.ExitCode == 0, dryRun.Error);
        Assert.Equal(documents.Count - 1, dryRun.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.EndsWith(" created (server dry run)", StringComparison.Ordinal)));
        Assert.NotEqual(0, Kubectl.Run("get", "daemonset", "-n", "podnet", "podnet-agent").ExitCode);

        var applied = Kubectl.Run("apply", "--validate=strict", "-f", PodnetYaml);
        Assert.True(applied.ExitCode == 0, applied.Error);
        Assert.Equal(documents.Count - 1, applied.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.EndsWith(" created", StringComparison.Ordinal)));
        // Applied again, nothing changes. (The PodDisruptionBudget is left out: this server's
        // answer makes kubectl report it "configured" on every apply, a discrepancy of its own.)
        var again = Kubectl.Ok("apply", "--validate=strict", "-f", PodnetYaml).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(documents.Count, again.Length);
        Assert.All(again.Where(l => !l.StartsWith("poddisruptionbudget", StringComparison.Ordinal)), l => Assert.EndsWith(" unchanged", l));

        var stored = JsonNode.Parse(Kubectl.Ok("get", "-f", PodnetYaml, "-o", "json"))!["items"]!.AsArray();
        Assert.Equal(documents.Select(d => $"{d.Kind}/{d.Name}"), stored.Select(o => $"{o!["kind"]}/{o["metadata"]!["name"]}"));

        var service = stored.Single(o => (string?)o!["kind"] == "Service")!;
        Assert.Equal("10.96.0.10", (string?)service["spec"]!["clusterIP"]);
        var agent = stored.Single(o => (string?)o!["kind"] == "DaemonSet")!["spec"]!["template"]!["spec"]!;
        Assert.True((bool?)agent["hostNetwork"]);
        Assert.Equal("Exists", (string?)Assert.Single(agent["tolerations"]!.AsArray())!["operator"]);
        var container = agent["containers"]![0]!;
        Assert.True((bool?)container["securityContext"]!["privileged"]);
        Assert.Equal(["/host/opt/cni/bin", "/host/etc/cni/net.d", "/var/lib/podnet", "/run/netns", "/lib/modules"],
            container["volumeMounts"]!.AsArray().Select(m => (string)m!["mountPath"]!));
        Assert.Equal("podnet-agent", (string?)agent["serviceAccountName"]);
        var budget = stored.Single(o => (string?)o!["kind"] == "PodDisruptionBudget")!;
        Assert.Equal(1, (int?)budget["spec"]!["maxUnavailable"]);

        // The agent's ServiceAccount has exactly podnet:agent's reads, and no write.
        var agentUser = "system:serviceaccount:podnet:podnet-agent";
        Assert.Equal("yes\n", Kubectl.Ok("auth", "can-i", "watch", "networkpolicies.networking.k8s.io", "--as", agentUser));
        Assert.Equal("no\n", Kubectl.Run("auth", "can-i", "get", "secrets", "-n", "kube-system", "--as", agentUser).Out);
        Assert.Equal("no\n", Kubectl.Run("auth", "can-i", "patch", "nodes", "--as", agentUser).Out);
    }

    [Fact]
    public void PodnetYaml_RbacDocuments_AreRbacYamls_OnlyTheAgentBindingDiffers()
    {
        var podnet = Load(PodnetYaml);
        var rbac = Load(RbacYaml);
        foreach (var (key, document) in rbac)
        {
            if (key == "ClusterRoleBinding/podnet:agent")
            {
                continue; // the lab binds the role to system:nodes; podnet.yaml to its ServiceAccount
            }
            if (key.EndsWith("/podnet:lab-kubelet", StringComparison.Ordinal))
            {
                Assert.False(podnet.ContainsKey(key), $"deploy/podnet.yaml carries the lab's {key}");
                continue; // the lab agent's kubelet needs; on a real cluster kubelet is not Podnet
            }
            Assert.True(podnet.TryGetValue(key, out var copy), $"deploy/podnet.yaml lacks deploy/rbac.yaml's {key}");
            Assert.True(JsonNode.DeepEquals(document, copy), $"{key} differs between deploy/rbac.yaml and deploy/podnet.yaml");
        }
        var binding = podnet["ClusterRoleBinding/podnet:agent:serviceaccount"];
        Assert.Equal("podnet:agent", (string?)binding["roleRef"]!["name"]);
        var subject = Assert.Single(binding["subjects"]!.AsArray())!;
        Assert.Equal(("ServiceAccount", "podnet", "podnet-agent"), ((string?)subject["kind"], (string?)subject["namespace"], (string?)subject["name"]));
        Assert.Equal(rbac.Keys.Count(k => k.StartsWith("ClusterRole/", StringComparison.Ordinal)) - 1, podnet.Keys.Count(k => k.StartsWith("ClusterRole/", StringComparison.Ordinal)));
    }

    /// <summary>Each document as JSON, by kind/name.</summary>
    private static Dictionary<string, JsonNode> Load(string path)
    {
        var result = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var item in KubernetesYaml.LoadAllFromString(System.IO.File.ReadAllText(path)))
        {
            var json = JsonNode.Parse(KubernetesJson.Serialize(item))!;
            result.Add($"{json["kind"]}/{json["metadata"]!["name"]}", json);
        }
        return result;
    }
}
