using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>StatefulSet, ControllerRevision and PodDisruptionBudget as served, and pods/eviction.</summary>
public sealed class StatefulKindsTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private Kubernetes Client => server.Client;

    private async Task<string> NewNamespace()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    private static V1StatefulSet Set(string name = "web") => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1StatefulSetSpec
        {
            ServiceName = "web",
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "web:1" }] },
            },
        },
    };

    private static async Task<JsonObject> Status422(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(call);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
        return JsonNode.Parse(e.Response.Content)!.AsObject();
    }

    private static List<string> Causes(JsonObject status) =>
        (status["details"]!["causes"] as JsonArray)!.Select(c => $"{(string?)c!["field"]}: {(string?)c["message"]}").ToList();

    [Fact]
    public async Task StatefulSet_GetsUpstreamDefaults()
    {
        var ns = await NewNamespace();

        var created = await Client.AppsV1.CreateNamespacedStatefulSetAsync(Set(), ns);

        Assert.Equal(1, created.Spec.Replicas);
        Assert.Equal("OrderedReady", created.Spec.PodManagementPolicy);
        Assert.Equal("RollingUpdate", created.Spec.UpdateStrategy.Type);
        Assert.Equal(0, created.Spec.UpdateStrategy.RollingUpdate.Partition);
        Assert.Equal(10, created.Spec.RevisionHistoryLimit);
        Assert.Equal(("Retain", "Retain"), (created.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted, created.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled));
        Assert.Equal("Always", created.Spec.Template.Spec.RestartPolicy);
        Assert.Equal(1, created.Metadata.Generation);
    }

    [Fact]
    public async Task StatefulSet_WithVolumeClaimTemplates_Is422_NamingTheField()
    {
        var ns = await NewNamespace();
        var set = Set();
        set.Spec.VolumeClaimTemplates = [new V1PersistentVolumeClaim { Metadata = new V1ObjectMeta { Name = "data" }, Spec = new V1PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"] } }];

        var status = await Status422(() => Client.AppsV1.CreateNamespacedStatefulSetAsync(set, ns));

        var cause = Assert.Single(Causes(status));
        Assert.StartsWith("spec.volumeClaimTemplates: Forbidden: volume claims are not supported in the Podnet lab", cause, StringComparison.Ordinal);
        Assert.Equal("StatefulSet", (string?)status["details"]!["kind"]);
    }

    [Fact]
    public async Task StatefulSet_BadFields_AreEachNamed()
    {
        var ns = await NewNamespace();
        var set = Set();
        set.Spec.Replicas = -1;
        set.Spec.PodManagementPolicy = "Random";
        set.Spec.UpdateStrategy = new V1StatefulSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateStatefulSetStrategy { Partition = -2 } };
        set.Spec.Template.Metadata.Labels["app"] = "other";
        set.Spec.Template.Spec.RestartPolicy = "Never";

        var causes = Causes(await Status422(() => Client.AppsV1.CreateNamespacedStatefulSetAsync(set, ns)));

        Assert.Contains("spec.replicas: Invalid value: -1: must be greater than or equal to 0", causes);
        Assert.Contains("spec.podManagementPolicy: Unsupported value: \"Random\": supported values: \"OrderedReady\", \"Parallel\"", causes);
        Assert.Contains("spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than or equal to 0", causes);
        Assert.Contains(causes, c => c.StartsWith("spec.template.metadata.labels: Invalid value:", StringComparison.Ordinal) && c.EndsWith("`selector` does not match template `labels`", StringComparison.Ordinal));
        Assert.Contains("spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"", causes);
    }

    [Fact]
    public async Task StatefulSet_Update_OfServiceName_IsForbidden_ButReplicasAndTemplateMayChange()
    {
        var ns = await NewNamespace();
        var created = await Client.AppsV1.CreateNamespacedStatefulSetAsync(Set(), ns);
        created.Spec.Replicas = 3;
        created.Spec.Template.Spec.Containers[0].Image = "web:2";
        var updated = await Client.AppsV1.ReplaceNamespacedStatefulSetAsync(created, "web", ns);
        Assert.Equal(2, updated.Metadata.Generation);

        updated.Spec.ServiceName = "other";
        var causes = Causes(await Status422(() => Client.AppsV1.ReplaceNamespacedStatefulSetAsync(updated, "web", ns)));

        Assert.Contains(causes, c => c.StartsWith("spec: Forbidden: updates to statefulset spec for fields other than 'replicas'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StatefulSet_ScaleSubresource_AndTableColumns()
    {
        var ns = await NewNamespace();
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(Set(), ns);

        var scale = await Client.AppsV1.PatchNamespacedStatefulSetScaleAsync(new V1Patch("""{"spec":{"replicas":4}}""", V1Patch.PatchType.MergePatch), "web", ns);
        Assert.Equal(4, scale.Spec.Replicas);
        Assert.Equal("app=web", scale.Status.Selector);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/apis/apps/v1/namespaces/{ns}/statefulsets");
        request.Headers.Add("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io");
        using var response = await server.Http.SendAsync(request);
        var table = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(["Name", "Ready", "Age", "Containers", "Images"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal(("web", "0/4", "c", "web:1"), ((string?)cells[0], (string?)cells[1], (string?)cells[3], (string?)cells[4]));
    }

    [Fact]
    public async Task ControllerRevision_RequiresData_AndItIsImmutable()
    {
        var ns = await NewNamespace();
        var causes = Causes(await Status422(() => Client.AppsV1.CreateNamespacedControllerRevisionAsync(new V1ControllerRevision { Metadata = new V1ObjectMeta { Name = "r" }, Revision = 1 }, ns)));
        Assert.Contains("data: Required value: data is mandatory", causes);

        var created = await Client.AppsV1.CreateNamespacedControllerRevisionAsync(new V1ControllerRevision { Metadata = new V1ObjectMeta { Name = "r" }, Revision = 1, Data = new JsonObject { ["a"] = 1 } }, ns);
        created.Data = new JsonObject { ["a"] = 2 };
        Assert.Contains("data: Invalid value: {\"a\":2}: field is immutable", Causes(await Status422(() => Client.AppsV1.ReplaceNamespacedControllerRevisionAsync(created, "r", ns))));
    }

    [Fact]
    public async Task PodDisruptionBudget_Validation_AndZeroStatus()
    {
        var ns = await NewNamespace();
        var bad = new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "b" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = "150%", MaxUnavailable = -1, UnhealthyPodEvictionPolicy = "Never" },
        };
        var causes = Causes(await Status422(() => Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(bad, ns)));
        Assert.Contains(causes, c => c.StartsWith("spec: Invalid value:", StringComparison.Ordinal) && c.EndsWith("minAvailable and maxUnavailable cannot be both set", StringComparison.Ordinal));
        Assert.Contains("spec.minAvailable: Invalid value: \"150%\": must not be greater than 100%", causes);
        Assert.Contains("spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0", causes);
        Assert.Contains("spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"", causes);

        var created = await Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(Budget("b", "1"), ns);
        Assert.Equal((0, 0, 0, 0), (created.Status.DisruptionsAllowed, created.Status.CurrentHealthy, created.Status.DesiredHealthy, created.Status.ExpectedPods));
    }

    private static V1PodDisruptionBudget Budget(string name, string minAvailable) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodDisruptionBudgetSpec { MinAvailable = minAvailable, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } } },
    };

    /// <summary>A Running, Ready pod (status written as the agent would), without a node so its deletion is immediate.</summary>
    private async Task ReadyPod(string ns, string name)
    {
        var pod = await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "web:1" }] },
        }, ns);
        pod.Status.Phase = "Running";
        pod.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }];
        await Client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, name, ns);
    }

    private async Task<HttpResponseMessage> Evict(string ns, string pod, string? body = null)
    {
        using var content = new StringContent(body ?? $$$"""{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"{{{pod}}}","namespace":"{{{ns}}}"}}""", Encoding.UTF8, "application/json");
        return await server.Http.PostAsync($"/api/v1/namespaces/{ns}/pods/{pod}/eviction", content);
    }

    private async Task SetBudgetStatus(string ns, string name, int allowed, int healthy, int desired)
    {
        var budget = await Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync(name, ns);
        budget.Status = new V1PodDisruptionBudgetStatus { ObservedGeneration = budget.Metadata.Generation, DisruptionsAllowed = allowed, CurrentHealthy = healthy, DesiredHealthy = desired, ExpectedPods = healthy };
        await Client.PolicyV1.ReplaceNamespacedPodDisruptionBudgetStatusAsync(budget, name, ns);
    }

    [Fact]
    public async Task Eviction_WithoutBudget_Is201_AndThePodIsGone()
    {
        var ns = await NewNamespace();
        await ReadyPod(ns, "p");

        using var response = await Evict(ns, "p");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("Success", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedPodAsync("p", ns));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task Eviction_BudgetAllowsNone_Is429_WithUpstreamsMessage_AndThePodStays()
    {
        var ns = await NewNamespace();
        await ReadyPod(ns, "p");
        await Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(Budget("b", "1"), ns);
        await SetBudgetStatus(ns, "b", allowed: 0, healthy: 1, desired: 1);

        using var response = await Evict(ns, "p");

        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("TooManyRequests", (string?)status["reason"]);
        Assert.Equal("Cannot evict pod as it would violate the pod's disruption budget.", (string?)status["message"]);
        var cause = status["details"]!["causes"]![0]!;
        Assert.Equal(("DisruptionBudget", "The disruption budget b needs 1 healthy pods and has 1 currently"), ((string?)cause["reason"], (string?)cause["message"]));
        Assert.Equal("p", (await Client.CoreV1.ReadNamespacedPodAsync("p", ns)).Metadata.Name);
    }

    [Fact]
    public async Task Eviction_BudgetNotYetObserved_Is429()
    {
        var ns = await NewNamespace();
        await ReadyPod(ns, "p");
        await Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(Budget("b", "1"), ns);

        using var response = await Evict(ns, "p");

        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Contains("The disruption budget b is still being processed by the server.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eviction_BudgetAllowsOne_Is201_AndChargesTheBudget_ThenTheNextIs429()
    {
        var ns = await NewNamespace();
        await ReadyPod(ns, "p");
        await ReadyPod(ns, "q");
        await Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(Budget("b", "1"), ns);
        await SetBudgetStatus(ns, "b", allowed: 1, healthy: 2, desired: 1);

        using var first = await Evict(ns, "p");
        using var second = await Evict(ns, "q");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        var budget = await Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("b", ns);
        Assert.Equal(0, budget.Status.DisruptionsAllowed);
        Assert.Equal("p", Assert.Single(budget.Status.DisruptedPods).Key);
        Assert.Equal("q", (await Client.CoreV1.ReadNamespacedPodAsync("q", ns)).Metadata.Name);
    }

    [Fact]
    public async Task Eviction_DryRun_ChangesNothing_AndAMismatchedNameIs400()
    {
        var ns = await NewNamespace();
        await ReadyPod(ns, "p");

        using var dry = await Evict(ns, "p", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p"},"deleteOptions":{"dryRun":["All"]}}""");
        using var mismatch = await Evict(ns, "p", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"other"}}""");

        Assert.Equal(HttpStatusCode.Created, dry.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Contains("name in URL does not match name in Eviction object", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("p", (await Client.CoreV1.ReadNamespacedPodAsync("p", ns)).Metadata.Name);
    }

    [Fact]
    public async Task Discovery_NamesEvictionAsPolicyV1_ForKubectlDrain()
    {
        var resources = JsonNode.Parse(await server.Http.GetStringAsync("/api/v1"))!["resources"]!.AsArray();
        var eviction = resources.Single(r => (string?)r!["name"] == "pods/eviction")!;
        Assert.Equal(("Eviction", "policy", "v1"), ((string?)eviction["kind"], (string?)eviction["group"], (string?)eviction["version"]));
    }
}
