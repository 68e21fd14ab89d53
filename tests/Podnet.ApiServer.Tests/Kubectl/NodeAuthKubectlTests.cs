using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>
/// The Node authorizer and NodeRestriction as kubectl sees them, for a node's identity
/// (system:node:NAME in system:nodes, impersonated by the admin): what a kubelet may read and
/// write, and upstream's 403 wording when it reaches past its own node.
/// </summary>
public sealed class NodeAuthKubectlTests : KubectlTestBase
{
    public NodeAuthKubectlTests(ServerFixture server)
        : base(server)
    {
    }

    /// <summary>kubectl as node <paramref name="node"/>: impersonating its user and group.</summary>
    private KubectlResult AsNode(string node, params string[] args) =>
        Kubectl.Run([.. args, "--as", $"system:node:{node}", "--as-group", "system:nodes"]);

    /// <summary>
    /// A merge patch as the node, over HTTP (kubectl patch --subresource=status reads the status
    /// first, which a node may not: upstream's kubelet patches without reading).
    /// </summary>
    private async Task<(int Code, string Message)> PatchAsNodeAsync(string node, string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/merge-patch+json") };
        request.Headers.Add("Impersonate-User", $"system:node:{node}");
        request.Headers.Add("Impersonate-Group", "system:nodes");
        using var response = await Server.Http.SendAsync(request);
        var answer = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync());
        return ((int)response.StatusCode, (string?)answer?["message"] ?? "");
    }

    /// <summary>Two nodes (unique names) and in a new namespace a pod bound to each, each using its own Secret and ConfigMap.</summary>
    private (string Ns, string Mine, string Other) TwoNodes()
    {
        var ns = Namespace("node-");
        var (mine, other) = ($"{ns}-a", $"{ns}-b");
        foreach (var (node, pod) in new[] { (mine, "pa"), (other, "pb") })
        {
            Kubectl.RunWithInput($$$"""
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"{{{node}}}","labels":{"node-restriction.kubernetes.io/pool":"x"} } }
                """, "apply", "-f", "-");
            Kubectl.Ok("create", "secret", "generic", $"s-{pod}", "--from-literal=k=v", "-n", ns);
            Kubectl.Ok("create", "configmap", $"c-{pod}", "--from-literal=k=v", "-n", ns);
            var apply = Kubectl.RunWithInput($$$"""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{pod}}}","namespace":"{{{ns}}}"},
                 "spec":{"nodeName":"{{{node}}}","containers":[{"name":"c","image":"agnhost",
                   "envFrom":[{"configMapRef":{"name":"c-{{{pod}}}"}}]}],
                   "volumes":[{"name":"s","secret":{"secretName":"s-{{{pod}}}"}}]}}
                """, "apply", "-f", "-");
            Assert.True(apply.ExitCode == 0, apply.Error);
        }
        return (ns, mine, other);
    }

    [Fact]
    public void Node_ReadsSecretsAndConfigMapsOfItsPodsOnly()
    {
        var (ns, mine, _) = TwoNodes();
        var own = AsNode(mine, "get", "secret", "s-pa", "-n", ns);
        Assert.True(own.ExitCode == 0, own.Error);
        var ownConfigMap = AsNode(mine, "get", "configmap", "c-pa", "-n", ns);
        Assert.True(ownConfigMap.ExitCode == 0, ownConfigMap.Error);
        var secret = AsNode(mine, "get", "secret", "s-pb", "-n", ns);
        Assert.Contains($"Error from server (Forbidden): secrets \"s-pb\" is forbidden: User \"system:node:{mine}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"{ns}\": no relationship found between node '{mine}' and this object", secret.Error);
        Assert.Contains("can only get individual resources of this type", AsNode(mine, "get", "secrets", "-n", ns).Error);
        Assert.Contains("no relationship found", AsNode(mine, "get", "configmap", "c-pb", "-n", ns).Error);
    }

    [Fact]
    public async Task Node_UpdatesItsOwnNodeAndStatus_NotAnotherNodes_NorRestrictedLabels()
    {
        var (_, mine, other) = TwoNodes();
        Assert.Equal(0, AsNode(mine, "label", "node", mine, "podnet.test/mine=yes").ExitCode);
        var status = await PatchAsNodeAsync(mine, $"/api/v1/nodes/{mine}/status", """{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ok"}]}}""");
        Assert.True(status.Code == 200, status.Message);
        var otherLabel = AsNode(mine, "label", "node", other, "podnet.test/mine=yes");
        Assert.Contains($"Error from server (Forbidden): nodes \"{other}\" is forbidden: node \"{mine}\" is not allowed to modify node \"{other}\"", otherLabel.Error);
        var otherStatus = await PatchAsNodeAsync(mine, $"/api/v1/nodes/{other}/status", """{"status":{"conditions":[{"type":"Ready","status":"False","reason":"x","message":"x"}]}}""");
        Assert.Equal((403, $"nodes \"{other}\" is forbidden: node \"{mine}\" is not allowed to modify node \"{other}\""), otherStatus);
        var restricted = AsNode(mine, "label", "node", mine, "--overwrite", "node-restriction.kubernetes.io/pool=y");
        Assert.Contains($"nodes \"{mine}\" is forbidden: node \"{mine}\" is not allowed to modify labels: node-restriction.kubernetes.io/pool", restricted.Error);
        var delete = AsNode(mine, "delete", "node", other);
        Assert.Contains($"nodes \"{other}\" is forbidden: User \"system:node:{mine}\" cannot delete resource \"nodes\" in API group \"\" at the cluster scope", delete.Error);
        Assert.Equal(0, Kubectl.Run("get", "node", other).ExitCode);
    }

    [Fact]
    public async Task Node_WritesStatusOfAndDeletesOnlyPodsBoundToIt()
    {
        var (ns, mine, _) = TwoNodes();
        var ownStatus = await PatchAsNodeAsync(mine, $"/api/v1/namespaces/{ns}/pods/pa/status", """{"status":{"message":"mine"}}""");
        Assert.True(ownStatus.Code == 200, ownStatus.Message);
        var otherStatus = await PatchAsNodeAsync(mine, $"/api/v1/namespaces/{ns}/pods/pb/status", """{"status":{"message":"not mine"}}""");
        Assert.Equal((403, $"pods \"pb\" is forbidden: node \"{mine}\" can only update pod status for pods with spec.nodeName set to itself"), otherStatus);
        var update = AsNode(mine, "label", "pod", "pa", "-n", ns, "x=y");
        Assert.Contains($"cannot patch resource \"pods\" in API group \"\" in the namespace \"{ns}\"", update.Error);
        var delete = AsNode(mine, "delete", "pod", "pb", "-n", ns, "--wait=false");
        Assert.Contains($"pods \"pb\" is forbidden: node \"{mine}\" can only delete pods with spec.nodeName set to itself", delete.Error);
        var create = AsNode(mine, "run", "p2", "--image=agnhost", "-n", ns);
        Assert.Contains($"node \"{mine}\" can only create mirror pods", create.Error);
        Assert.Equal(0, AsNode(mine, "delete", "pod", "pa", "-n", ns, "--wait=false").ExitCode);
    }

    [Fact]
    public void Node_CreatesTokensOnlyForItsPods_AndReachesOnlyItsLease()
    {
        var (ns, mine, other) = TwoNodes();
        string Uid(string pod) => Kubectl.Ok("get", "pod", pod, "-n", ns, "-o", "jsonpath={.metadata.uid}");
        var own = AsNode(mine, "create", "token", "default", "-n", ns, "--bound-object-kind=Pod", "--bound-object-name=pa", "--bound-object-uid=" + Uid("pa"));
        Assert.True(own.ExitCode == 0, own.Error);
        var noUid = AsNode(mine, "create", "token", "default", "-n", ns, "--bound-object-kind=Pod", "--bound-object-name=pa");
        Assert.Contains("node requested token with a pod binding without a uid", noUid.Error);
        var elsewhere = AsNode(mine, "create", "token", "default", "-n", ns, "--bound-object-kind=Pod", "--bound-object-name=pb", "--bound-object-uid=" + Uid("pb"));
        Assert.Contains("node requested token bound to a pod scheduled on a different node", elsewhere.Error);
        var unbound = AsNode(mine, "create", "token", "default", "-n", ns);
        Assert.Contains("node requested token not bound to a pod", unbound.Error);
        var lease = """
            {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"NAME","namespace":"kube-node-lease"},"spec":{"holderIdentity":"NAME"}}
            """;
        var created = Kubectl.RunWithInput(lease.Replace("NAME", mine), ["create", "-f", "-", "--as", $"system:node:{mine}", "--as-group", "system:nodes"]);
        Assert.True(created.ExitCode == 0, created.Error);
        var foreign = Kubectl.RunWithInput(lease.Replace("NAME", other), ["create", "-f", "-", "--as", $"system:node:{mine}", "--as-group", "system:nodes"]);
        Assert.Contains("can only access node lease with the same name as the requesting node", foreign.Error);
        Assert.Contains("can only access node lease with the same name as the requesting node", AsNode(mine, "get", "lease", "-n", "kube-node-lease", "whatever").Error);
        Assert.Equal("yes\n", AsNode(mine, "auth", "can-i", "get", "lease/" + mine, "-n", "kube-node-lease").Out);
    }
}
