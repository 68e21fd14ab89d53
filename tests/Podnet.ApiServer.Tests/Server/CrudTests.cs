using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

public sealed class CrudTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private Kubernetes Client => server.Client;

    private async Task<string> NewNamespace()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    private static V1ConfigMap ConfigMap(string name, Dictionary<string, string>? labels = null) =>
        new() { Metadata = new V1ObjectMeta { Name = name, Labels = labels }, Data = new Dictionary<string, string> { ["k"] = "v" } };

    [Fact]
    public async Task Create_Get_Update_Delete_RoundTrip()
    {
        var ns = await NewNamespace();
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), ns);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        var rv = long.Parse(created.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);

        created.Data["k"] = "w";
        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "a", ns);
        Assert.True(long.Parse(updated.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) > rv);
        Assert.Equal("w", (await Client.CoreV1.ReadNamespacedConfigMapAsync("a", ns)).Data["k"]);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("a", ns);
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedConfigMapAsync("a", ns));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        Assert.Contains("configmaps \\\"a\\\" not found", missing.Response.Content);
    }

    [Fact]
    public async Task Update_WithStaleResourceVersion_Is409Conflict_AndCreateTwiceIsAlreadyExists()
    {
        var ns = await NewNamespace();
        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), ns);
        var rv = first.Metadata.ResourceVersion;
        first.Data["k"] = "fresh";
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(first, "c", ns);
        first.Metadata.ResourceVersion = rv;
        first.Data["k"] = "stale";
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReplaceNamespacedConfigMapAsync(first, "c", ns));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Contains("\"reason\":\"Conflict\"", conflict.Response.Content);
        Assert.Equal("fresh", (await Client.CoreV1.ReadNamespacedConfigMapAsync("c", ns)).Data["k"]);
        var exists = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), ns));
        Assert.Equal(HttpStatusCode.Conflict, exists.Response.StatusCode);
        Assert.Contains("\"reason\":\"AlreadyExists\"", exists.Response.Content);
    }

    [Fact]
    public async Task GenerateName_GivesDistinctNames()
    {
        var ns = await NewNamespace();
        var names = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            var cm = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "gen-" } }, ns);
            Assert.StartsWith("gen-", cm.Metadata.Name);
            Assert.True(names.Add(cm.Metadata.Name));
        }
    }

    [Fact]
    public async Task List_LabelAndFieldSelectors()
    {
        var ns = await NewNamespace();
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", new() { ["app"] = "web", ["tier"] = "front" }), ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", new() { ["app"] = "web", ["tier"] = "back" }), ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c", new() { ["app"] = "db" }), ns);
        async Task<string> Names(string? labels = null, string? fields = null) =>
            string.Join(",", (await Client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: labels, fieldSelector: fields)).Items.Select(i => i.Metadata.Name).Where(n => n != "kube-root-ca.crt"));
        Assert.Equal("a,b", await Names("app=web"));
        Assert.Equal("a,c", await Names("tier notin (back)"));
        Assert.Equal("b", await Names("app in (web,db),tier=back"));
        Assert.Equal("c", await Names("!tier"));
        Assert.Equal("b", await Names(fields: "metadata.name=b"));
        Assert.Equal("a,c", await Names(fields: "metadata.name!=b"));
        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => Names(fields: "spec.nodeName=x"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Response.StatusCode);
    }

    [Fact]
    public async Task Pods_FieldSelectorOnNodeAndPhase_AfterBindingAndStatus()
    {
        var ns = await NewNamespace();
        foreach (var name in new[] { "p1", "p2" })
        {
            await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }] },
            }, ns);
        }
        await Client.CoreV1.CreateNamespacedPodBindingAsync(new V1Binding { Metadata = new V1ObjectMeta { Name = "p1" }, Target = new V1ObjectReference { Kind = "Node", Name = "node-a" } }, "p1", ns);
        var pod = await Client.CoreV1.ReadNamespacedPodAsync("p1", ns);
        Assert.Equal("node-a", pod.Spec.NodeName);
        Assert.Contains(pod.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "True");
        pod.Status.Phase = "Running";
        await Client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, "p1", ns);
        var onNode = await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "spec.nodeName=node-a,status.phase=Running");
        Assert.Equal("p1", Assert.Single(onNode.Items).Metadata.Name);
        var pending = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: $"status.phase=Pending,metadata.namespace={ns}");
        Assert.Equal("p2", Assert.Single(pending.Items).Metadata.Name);
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedPodBindingAsync(
            new V1Binding { Metadata = new V1ObjectMeta { Name = "p1" }, Target = new V1ObjectReference { Kind = "Node", Name = "node-b" } }, "p1", ns));
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);
    }

    [Fact]
    public async Task List_LimitAndContinue_PagesThroughEverything()
    {
        var ns = await NewNamespace();
        for (var i = 0; i < 7; i++)
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap($"cm-{i}"), ns);
        }
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"skip":"yes"}}}""", V1Patch.PatchType.MergePatch), "kube-root-ca.crt", ns);
        var names = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Client.CoreV1.ListNamespacedConfigMapAsync(ns, limit: 3, continueParameter: token, labelSelector: "!skip");
            names.AddRange(page.Items.Select(i => i.Metadata.Name));
            token = page.Metadata.ContinueProperty;
            pages++;
        }
        while (!string.IsNullOrEmpty(token));
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"cm-{i}"), names);
    }

    [Fact]
    public async Task Patches_Merge_Strategic_Json()
    {
        var ns = await NewNamespace();
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("p", new() { ["a"] = "1" }), ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"b":"2"}}}""", V1Patch.PatchType.MergePatch), "p", ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"x":"y"}}""", V1Patch.PatchType.StrategicMergePatch), "p", ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""[{"op":"remove","path":"/metadata/labels/a"}]""", V1Patch.PatchType.JsonPatch), "p", ns);
        var cm = await Client.CoreV1.ReadNamespacedConfigMapAsync("p", ns);
        Assert.Equal(new Dictionary<string, string> { ["b"] = "2" }, cm.Metadata.Labels);
        Assert.Equal("y", cm.Data["x"]);
        Assert.Equal("v", cm.Data["k"]);
    }

    [Fact]
    public async Task NewNamespace_HasDefaultServiceAccountAndRootCa()
    {
        var ns = await NewNamespace();
        Assert.Equal("default", (await Client.CoreV1.ReadNamespacedServiceAccountAsync("default", ns)).Metadata.Name);
        var ca = await Client.CoreV1.ReadNamespacedConfigMapAsync("kube-root-ca.crt", ns);
        Assert.Equal(server.Host.CaPem, ca.Data["ca.crt"]);
        Assert.Equal(ns, (await Client.CoreV1.ReadNamespaceAsync(ns)).Metadata.Labels["kubernetes.io/metadata.name"]);
    }

    [Fact]
    public async Task BadBodies_And_UnknownPaths_And_MissingToken_AreClearErrors()
    {
        using var badJson = await server.Http.PostAsync("api/v1/namespaces/default/configmaps", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.Contains("not valid JSON", await badJson.Content.ReadAsStringAsync());
        using var badYaml = await server.Http.PostAsync("api/v1/namespaces/default/configmaps", new StringContent("a: [b", System.Text.Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, badYaml.StatusCode);
        using var yaml = await server.Http.PostAsync("api/v1/namespaces/default/configmaps", new StringContent("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yaml}\ndata: {n: \"1\"}\n", System.Text.Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.Created, yaml.StatusCode);
        Assert.Equal("1", (await Client.CoreV1.ReadNamespacedConfigMapAsync("from-yaml", "default")).Data["n"]);
        using var wrongType = await server.Http.PostAsync("api/v1/namespaces/default/services", new StringContent("""{"metadata":{"name":"wt"},"spec":{"type":5,"ports":[{"port":80}]}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        using var numberName = await server.Http.PostAsync("api/v1/namespaces/default/configmaps", new StringContent("""{"metadata":{"name":7}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, numberName.StatusCode);
        using var unknown = await server.Http.GetAsync("api/v1/widgets");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var anonymous = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }) { BaseAddress = server.Host.Url };
        // No credentials is system:anonymous, whom RBAC lets see only /healthz, /livez, /readyz and /version.
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync("api/v1/namespaces")).StatusCode);
        using var wrongToken = new HttpRequestMessage(HttpMethod.Get, "version");
        wrongToken.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrongToken)).StatusCode);
        Assert.Equal("ok", await anonymous.GetStringAsync("readyz"));
        Assert.Contains("\"gitVersion\":\"v1.32.4\"", await anonymous.GetStringAsync("version"));
    }

    [Fact]
    public async Task Discovery_LegacyAndAggregated()
    {
        var legacy = System.Text.Json.Nodes.JsonNode.Parse(await server.Http.GetStringAsync("apis/apps/v1"))!;
        Assert.Contains(legacy["resources"]!.AsArray(), r => (string?)r!["name"] == "deployments/scale" && (string?)r["kind"] == "Scale");
        using var request = new HttpRequestMessage(HttpMethod.Get, "apis");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
        using var response = await server.Http.SendAsync(request);
        var contentType = response.Content.Headers.ContentType!;
        Assert.Equal("application/json", contentType.MediaType);
        Assert.Equal(["g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"], contentType.Parameters.Select(p => $"{p.Name}={p.Value}"));
        var aggregated = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var apps = aggregated["items"]!.AsArray().Single(i => (string?)i!["metadata"]!["name"] == "apps")!;
        var deployments = apps["versions"]![0]!["resources"]!.AsArray().Single(r => (string?)r!["resource"] == "deployments")!;
        Assert.Equal("Namespaced", (string?)deployments["scope"]);
        Assert.Contains(deployments["subresources"]!.AsArray(), s => (string?)s!["subresource"] == "scale");
        var legacyApis = await server.Http.GetStringAsync("apis");
        Assert.Contains("\"kind\":\"APIGroupList\"", legacyApis);
    }

    [Fact]
    public async Task Discovery_ListsTheKubeletSubresources_AsKubeApiserverDoes()
    {
        var legacy = System.Text.Json.Nodes.JsonNode.Parse(await server.Http.GetStringAsync("api/v1"))!["resources"]!.AsArray();
        string Describe(string name) => legacy.Single(r => (string?)r!["name"] == name) is { } r
            ? $"{r["kind"]} {string.Join(",", r["verbs"]!.AsArray().Select(v => (string?)v))} {r["namespaced"]}" : "";
        Assert.Equal("PodExecOptions create,get true", Describe("pods/exec"));
        Assert.Equal("PodAttachOptions create,get true", Describe("pods/attach"));
        Assert.Equal("PodPortForwardOptions create,get true", Describe("pods/portforward"));
        Assert.Equal("Pod get true", Describe("pods/log"));
        Assert.Equal("NodeProxyOptions get false", Describe("nodes/proxy"));
        Assert.Equal("Eviction create true", Describe("pods/eviction"));
        Assert.Equal("policy", (string?)legacy.Single(r => (string?)r!["name"] == "pods/eviction")!["group"]);

        using var request = new HttpRequestMessage(HttpMethod.Get, "api");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        using var response = await server.Http.SendAsync(request);
        var core = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["items"]![0]!["versions"]![0]!["resources"]!.AsArray();
        var pods = core.Single(r => (string?)r!["resource"] == "pods")!["subresources"]!.AsArray();
        var exec = pods.Single(s => (string?)s!["subresource"] == "exec")!;
        Assert.Equal("PodExecOptions", (string?)exec["responseKind"]!["kind"]);
        Assert.Equal(["create", "get"], exec["verbs"]!.AsArray().Select(v => (string?)v));
        Assert.Contains(core.Single(r => (string?)r!["resource"] == "nodes")!["subresources"]!.AsArray(), s => (string?)s!["subresource"] == "proxy");
    }

    [Fact]
    public async Task Http2_And_Http11_BothServe()
    {
        foreach (var version in new[] { HttpVersion.Version20, HttpVersion.Version11 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/namespaces/default") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(version, response.Version);
        }
    }

    [Fact]
    public async Task Rbac_KindsAreStored()
    {
        var ns = await NewNamespace();
        await Client.RbacAuthorizationV1.CreateClusterRoleAsync(new V1ClusterRole
        {
            Metadata = new V1ObjectMeta { Name = $"reader-{ns}" },
            Rules = [new V1PolicyRule { ApiGroups = [""], Resources = ["pods"], Verbs = ["get", "list", "watch"] }],
        });
        await Client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(new V1RoleBinding
        {
            Metadata = new V1ObjectMeta { Name = "read" },
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = $"reader-{ns}" },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = "default", NamespaceProperty = ns }],
        }, ns);
        var role = await Client.RbacAuthorizationV1.ReadClusterRoleAsync($"reader-{ns}");
        Assert.Equal(["get", "list", "watch"], role.Rules[0].Verbs);
        var binding = await Client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync("read", ns);
        Assert.Equal($"reader-{ns}", binding.RoleRef.Name);
    }
}
