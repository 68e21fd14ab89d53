using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>
/// Writes to /status as kube-apiserver's status strategies: status and metadata are the
/// writer's, spec stays; a Deployment keeps its labels, a Pod its ownerReferences.
/// </summary>
public sealed class StatusSubresourceTests : IDisposable
{
    private readonly TempService _api = new();

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task ServiceStatusPut_KeepsLabelAndAnnotationChanges_IgnoresSpec()
    {
        var svc = await _api.Create(ResourceCatalog.Services, """{"metadata":{"name":"web","labels":{"a":"1"}},"spec":{"ports":[{"port":80}]}}""");
        var body = svc.DeepClone().AsObject();
        body["metadata"]!["labels"] = new JsonObject { ["a"] = "2", ["b"] = "3" };
        body["metadata"]!["annotations"] = new JsonObject { ["note"] = "x" };
        body["spec"]!["ports"]![0]!["port"] = 8080;
        body["status"] = JsonNode.Parse("""{"loadBalancer":{"ingress":[{"ip":"172.18.0.200"}]}}""");

        var updated = await _api.Service.UpdateAsync(ResourceCatalog.Services, "default", "web", "status", body, false);

        Assert.Equal("""{"a":"2","b":"3"}""", updated["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("x", (string?)updated["metadata"]!["annotations"]!["note"]);
        Assert.Equal(80, (int)updated["spec"]!["ports"]![0]!["port"]!);
        Assert.Equal("172.18.0.200", (string?)updated["status"]!["loadBalancer"]!["ingress"]![0]!["ip"]);
    }

    [Fact]
    public async Task DeploymentStatusPatch_KeepsAnnotations_ResetsLabelsAndSpec()
    {
        await _api.Create(ResourceCatalog.Deployments, """
            {"metadata":{"name":"d","labels":{"a":"1"}},"spec":{"selector":{"matchLabels":{"app":"d"}},
             "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}}}
            """);
        var patch = JsonNode.Parse("""{"metadata":{"labels":{"a":"2"},"annotations":{"deployment.kubernetes.io/revision":"1"}},"spec":{"replicas":5},"status":{"observedGeneration":1}}""")!;

        var updated = await _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "d", "status", PatchType.Merge, patch, false);

        Assert.Equal("1", (string?)updated["metadata"]!["labels"]!["a"]);
        Assert.Equal("1", (string?)updated["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
        Assert.Equal(1, (int)updated["spec"]!["replicas"]!);
        Assert.Equal(1, (int)updated["status"]!["observedGeneration"]!);
        Assert.Equal(1, (int)updated["metadata"]!["generation"]!);
    }

    [Fact]
    public async Task PodStatusPatch_KeepsLabels_NotOwnerReferencesOrSpec()
    {
        await _api.Create(ResourceCatalog.Pods, """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}""");
        var patch = JsonNode.Parse("""
            {"metadata":{"labels":{"ready":"yes"},"ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","uid":"u"}]},
             "spec":{"nodeName":"n1"},"status":{"phase":"Running"}}
            """)!;

        var updated = await _api.Service.PatchAsync(ResourceCatalog.Pods, "default", "p", "status", PatchType.Merge, patch, false);

        Assert.Equal("yes", (string?)updated["metadata"]!["labels"]!["ready"]);
        Assert.Null(updated["metadata"]!["ownerReferences"]);
        Assert.Null(updated["spec"]!["nodeName"]);
        Assert.Equal("Running", (string?)updated["status"]!["phase"]);
    }

    [Fact]
    public async Task DeploymentAnnotationChange_IsANewGeneration_AsUpstream()
    {
        await _api.Create(ResourceCatalog.Deployments, """
            {"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},
             "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}}}
            """);

        var updated = await _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "d", null, PatchType.Merge, JsonNode.Parse("""{"metadata":{"annotations":{"k":"v"}}}""")!, false);

        Assert.Equal(2, (int)updated["metadata"]!["generation"]!);
    }
}
