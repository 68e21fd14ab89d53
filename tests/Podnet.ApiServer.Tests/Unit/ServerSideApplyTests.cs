using System.Text.Json.Nodes;
using Podnet.ApiServer.Fields;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>Server-side apply and managedFields through the REST layer, over a real store.</summary>
public sealed class ServerSideApplyTests : IDisposable
{
    private const string Web = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
                 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"agnhost:2.39","env":[{"name":"A","value":"1"}]}]}}}}
        """;

    private static readonly FieldManager Kubectl = new("kubectl");

    private readonly TempService _api = new();

    public void Dispose() => _api.Dispose();

    private async Task<JsonObject> Apply(string config, FieldManager? manager = null, bool force = false)
    {
        var (obj, _) = await _api.Service.ServerSideApplyAsync(ResourceCatalog.Deployments, "default", "web", null, TempService.Json(config), manager ?? Kubectl, force, false);
        return obj;
    }

    private static JsonObject Entry(JsonObject obj, string manager, string operation) =>
        obj["metadata"]!["managedFields"]!.AsArray().Select(e => e!.AsObject()).Single(e => (string?)e["manager"] == manager && (string?)e["operation"] == operation);

    private static JsonNode Container(JsonObject obj) => obj["spec"]!["template"]!["spec"]!["containers"]![0]!;

    [Fact]
    public async Task Apply_CreatesTheObject_WithAnApplyEntry_AndDefaultsOwnedByNobody()
    {
        var (obj, created) = await _api.Service.ServerSideApplyAsync(ResourceCatalog.Deployments, "default", "web", null, TempService.Json(Web), Kubectl, false, false);
        Assert.True(created);
        var entry = Entry(obj, "kubectl", "Apply");
        Assert.Equal(("apps/v1", "FieldsV1"), ((string?)entry["apiVersion"], (string?)entry["fieldsType"]));
        Assert.NotNull(entry["time"]);
        Assert.Single(obj["metadata"]!["managedFields"]!.AsArray());
        Assert.Equal("IfNotPresent", (string?)Container(obj)["imagePullPolicy"]);
        Assert.Null(entry["fieldsV1"]!["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"web\"}"]!["f:imagePullPolicy"]);
    }

    [Fact]
    public async Task Reapply_WithoutAField_RemovesIt_ButKeepsWhatOthersOwn()
    {
        await Apply(Web);
        await _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "web", null, PatchType.Merge, TempService.Json("""{"metadata":{"labels":{"owner":"ops"}}}"""), false, new FieldManager("kubectl-label"));
        var obj = await Apply(Web.Replace(""","env":[{"name":"A","value":"1"}]""", "", StringComparison.Ordinal));
        Assert.Null(Container(obj)["env"]);
        Assert.Equal("ops", (string?)obj["metadata"]!["labels"]!["owner"]);
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:owner":{}}}}""", Entry(obj, "kubectl-label", "Update")["fieldsV1"]!.ToJsonString(Bodies.Options));
    }

    [Fact]
    public async Task ChangingAFieldAnotherManagerOwns_Conflicts_NamingFieldAndManager()
    {
        await Apply(Web);
        await _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "web", "scale", PatchType.Merge, TempService.Json("""{"spec":{"replicas":5}}"""), false, new FieldManager("kubectl-scale"));
        var error = await Assert.ThrowsAsync<ApiException>(() => Apply(Web.Replace("\"replicas\":2", "\"replicas\":3", StringComparison.Ordinal).Replace("2.39", "2.40", StringComparison.Ordinal)));
        Assert.Equal((409, "Conflict"), (error.Code, error.Reason));
        Assert.Matches("""^Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: \.spec\.replicas$""", error.Message);
        var cause = error.Details!["causes"]![0]!;
        Assert.Equal(("FieldManagerConflict", ".spec.replicas"), ((string?)cause["reason"], (string?)cause["field"]));
        Assert.Equal(5, (int)_api.Service.Get(ResourceCatalog.Deployments, "default", "web")["spec"]!["replicas"]!);
        Assert.Equal("agnhost:2.39", (string?)Container(_api.Service.Get(ResourceCatalog.Deployments, "default", "web"))["image"]);
    }

    [Fact]
    public async Task SameValueAsAnotherManager_IsShared_NotAConflict()
    {
        await Apply(Web);
        var obj = await Apply("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2}}""", new FieldManager("other"));
        Assert.Equal("""{"f:spec":{"f:replicas":{}}}""", Entry(obj, "other", "Apply")["fieldsV1"]!.ToJsonString(Bodies.Options));
        Assert.NotNull(Entry(obj, "kubectl", "Apply")["fieldsV1"]!["f:spec"]!["f:replicas"]);
    }

    [Fact]
    public async Task Force_TakesOwnership_FromTheOtherManager()
    {
        await Apply(Web);
        await _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "web", "scale", PatchType.Merge, TempService.Json("""{"spec":{"replicas":5}}"""), false, new FieldManager("kubectl-scale"));
        var obj = await Apply(Web.Replace("\"replicas\":2", "\"replicas\":3", StringComparison.Ordinal), force: true);
        Assert.Equal(3, (int)obj["spec"]!["replicas"]!);
        Assert.DoesNotContain(obj["metadata"]!["managedFields"]!.AsArray(), e => (string?)e!["manager"] == "kubectl-scale");
    }

    [Fact]
    public async Task UpdateByAnotherWriter_TakesTheFieldsItChanged_FromTheApplier()
    {
        await Apply(Web);
        var obj = await _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "web", null, PatchType.Strategic,
            TempService.Json("""{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"agnhost:2.40"}]}}}}"""), false, new FieldManager("kubectl-edit"));
        Assert.Equal("""{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:image":{}}}}}}}""", Entry(obj, "kubectl-edit", "Update")["fieldsV1"]!.ToJsonString(Bodies.Options));
        Assert.Null(Entry(obj, "kubectl", "Apply")["fieldsV1"]!["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"web\"}"]!["f:image"]);
    }

    [Fact]
    public async Task Create_RecordsTheCreatorsFields_NewMapsAsMembers()
    {
        var obj = await _api.Service.CreateAsync(ResourceCatalog.ConfigMaps, "default", TempService.Json("""{"metadata":{"name":"c","labels":{"a":"b"}},"data":{"k":"v"}}"""), false, new FieldManager("kubectl-create"));
        Assert.Equal("""{"f:data":{".":{},"f:k":{}},"f:metadata":{"f:labels":{".":{},"f:a":{}}}}""", Entry(obj, "kubectl-create", "Update")["fieldsV1"]!.ToJsonString(Bodies.Options));
    }

    [Fact]
    public async Task Apply_MergesKeyedListsItemByItem_KeepingItemsOthersAdded()
    {
        await Apply(Web);
        await _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "web", null, PatchType.Strategic,
            TempService.Json("""{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"INJECTED","value":"x"}]}]}}}}"""), false, new FieldManager("injector"));
        var obj = await Apply(Web.Replace("""{"name":"A","value":"1"}""", """{"name":"A","value":"2"},{"name":"B","value":"3"}""", StringComparison.Ordinal));
        Assert.Equal(["A=2", "B=3", "INJECTED=x"], Container(obj)["env"]!.AsArray().Select(e => $"{e!["name"]}={e["value"]}").Order());
    }
}
