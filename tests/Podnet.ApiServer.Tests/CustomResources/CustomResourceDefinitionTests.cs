using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tables;
using Podnet.ApiServer.Tests.Unit;

namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>CRDs and their objects through the REST layer (real SQLite store, no HTTP).</summary>
public sealed class CustomResourceDefinitionTests : IDisposable
{
    private readonly TempService _api = new();

    private static readonly ResourceInfo Crds = ResourceCatalog.CustomResourceDefinitions;

    public void Dispose() => _api.Dispose();

    private static JsonObject Crd(string yaml = Widgets.Yaml) => YamlToJson.Documents(yaml).Single()!.AsObject();

    private async Task<ResourceInfo> WidgetsAsync(string version = "v1")
    {
        await _api.Service.CreateAsync(Crds, null, Crd(), false);
        return _api.Service.Crds.Find("example.com", version, "widgets") ?? throw new InvalidOperationException("widgets are not served");
    }

    private static JsonObject Widget(string name, string spec) =>
        TempService.Json($$"""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"{{name}}"},"spec":{{spec}}}""");

    private async Task<List<string>> InvalidAsync(ResourceInfo r, JsonObject body)
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => _api.Service.CreateAsync(r, r.Namespaced ? "default" : null, body, false));
        Assert.Equal(422, error.Code);
        return error.Details!["causes"]!.AsArray().Select(c => $"{(string?)c!["field"]}: {(string?)c["message"]}").ToList();
    }

    [Fact]
    public async Task Create_SetsNamesAcceptedEstablishedStoredVersionsAndTheCleanupFinalizer()
    {
        var created = await _api.Service.CreateAsync(Crds, null, Crd(), false);
        var conditions = created["status"]!["conditions"]!.AsArray().Select(c => $"{c!["type"]}={c["status"]}/{c["reason"]}").ToList();
        Assert.Equal(["NamesAccepted=True/NoConflicts", "Established=True/InitialNamesAccepted"], conditions);
        Assert.Equal("WidgetList", (string?)created["status"]!["acceptedNames"]!["listKind"]);
        Assert.Equal("widget", (string?)created["spec"]!["names"]!["singular"]);
        Assert.Equal("None", (string?)created["spec"]!["conversion"]!["strategy"]);
        Assert.Equal(["v1"], created["status"]!["storedVersions"]!.AsArray().Select(v => (string?)v));
        Assert.Equal(["customresourcecleanup.apiextensions.k8s.io"], created.Finalizers());
        var served = _api.Service.Crds.InGroupVersion("example.com", "v1").Single();
        Assert.Equal(("Widget", "WidgetList", "widget", true), (served.Kind, served.ListKind, served.Singular, served.Namespaced));
        Assert.Equal(["status", "scale"], served.Subresources);
        Assert.NotNull(_api.Service.Crds.Find("example.com", "v1beta1", "widgets"));
    }

    [Fact]
    public async Task InvalidDefinition_Is422_NamingEveryField()
    {
        var crd = Crd();
        crd["metadata"]!["name"] = "gadgets.example.com";
        crd["spec"]!["scope"] = "Galaxy";
        crd["spec"]!["names"]!["kind"] = "Widget";
        crd["spec"]!["names"]!["listKind"] = "Widget";
        crd["spec"]!["names"]!["plural"] = "Widgets";
        var versions = crd["spec"]!["versions"]!.AsArray();
        versions[1]!["storage"] = true;
        versions[1]!.AsObject().Remove("schema");
        versions[0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["size"]!.AsObject().Remove("type");
        versions[0]!["additionalPrinterColumns"]![0]!["type"] = "float";
        var causes = await InvalidAsync(Crds, crd);
        Assert.Contains("metadata.name: Invalid value: \"gadgets.example.com\": must be spec.names.plural+\".\"+spec.group", causes);
        Assert.Contains("spec.scope: Unsupported value: \"Galaxy\": supported values: \"Cluster\", \"Namespaced\"", causes);
        Assert.Contains(causes, c => c.StartsWith("spec.names.plural: Invalid value: \"Widgets\": a DNS-1035 label", StringComparison.Ordinal));
        Assert.Contains("spec.names.listKind: Invalid value: \"Widget\": kind and listKind may not be the same or listKind must be different from kind", causes);
        Assert.Contains(causes, c => c.StartsWith("spec.versions: Invalid value:", StringComparison.Ordinal) && c.EndsWith("must have exactly one version marked as storage version", StringComparison.Ordinal));
        Assert.Contains("spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required", causes);
        Assert.Contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type: Required value: must not be empty for specified object fields", causes);
        Assert.Contains(causes, c => c.StartsWith("spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: \"float\"", StringComparison.Ordinal));
        Assert.Null(_api.Service.Crds.Find("example.com", "v1", "widgets"));
    }

    [Fact]
    public async Task NonStructuralSchemas_AreRefused()
    {
        var crd = Crd();
        var root = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject();
        root["properties"]!["metadata"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["labels"] = new JsonObject { ["type"] = "object" } } };
        root["properties"]!["spec"]!["properties"]!["tags"]!.AsObject().Remove("items");
        root["properties"]!["spec"]!["properties"]!["labels"]!["properties"] = new JsonObject { ["a"] = new JsonObject { ["type"] = "string" } };
        root["properties"]!["spec"]!["properties"]!["owner"]!["pattern"] = "([a-z";
        var causes = await InvalidAsync(Crds, crd);
        const string At = "spec.versions[0].schema.openAPIV3Schema";
        Assert.Contains($"{At}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified", causes);
        Assert.Contains($"{At}.properties[spec].properties[tags].items: Required value: must be specified", causes);
        Assert.Contains($"{At}.properties[spec].properties[labels].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive", causes);
        Assert.Contains(causes, c => c.StartsWith($"{At}.properties[spec].properties[owner].pattern: Invalid value: \"([a-z\": must be a valid regular expression", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SchemaNestedPastTheBound_IsRefused()
    {
        var crd = Crd();
        JsonObject deep = new() { ["type"] = "string" };
        for (var i = 0; i < 80; i++)
        {
            deep = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["x"] = deep } };
        }
        crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"] = deep;
        var causes = await InvalidAsync(Crds, crd);
        Assert.Contains(causes, c => c.Contains("must not be nested more than 64 levels deep", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NamesTakenByAnotherDefinition_AreNotAccepted_AndNotServed()
    {
        await _api.Service.CreateAsync(Crds, null, Crd(), false);
        var other = Crd(Widgets.Yaml.Replace("name: widgets.example.com", "name: gizmos.example.com").Replace("plural: widgets", "plural: gizmos").Replace("singular: widget", "singular: gizmo"));
        var created = await _api.Service.CreateAsync(Crds, null, other, false);
        var names = created["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "NamesAccepted")!;
        Assert.Equal(("False", "ShortNamesConflict", "\"wd\" is already in use"), ((string?)names["status"], (string?)names["reason"], (string?)names["message"]));
        Assert.Null(_api.Service.Crds.Find("example.com", "v1", "gizmos"));
    }

    [Fact]
    public async Task Objects_AreValidatedAgainstTheSchema_NamingEachField()
    {
        var widgets = await WidgetsAsync();
        var causes = await InvalidAsync(widgets, Widget("bad", """
            {"size": "big", "ratio": 1, "color": "pink", "owner": "Bob-the-builder", "tags": ["a", "a", "", "b"],
             "labels": {"x": 1}, "port": true, "template": {"spec": {}}}
            """));
        Assert.Equal(
        [
            "spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\"",
            "spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1",
            "spec.color: Unsupported value: \"pink\": supported values: \"red\", \"green\", \"blue\"",
            "spec.owner: Too long: may not be more than 8 bytes",
            "spec.owner: Invalid value: \"Bob-the-builder\": spec.owner in body should match '^[a-z]+$'",
            "spec.tags: Too many: 4: must have at most 3 items",
            "spec.tags[1]: Duplicate value: \"a\"",
            "spec.tags[2]: Invalid value: \"\": spec.tags[2] in body should be at least 1 chars long",
            "spec.labels.x: Invalid value: \"integer\": spec.labels.x in body must be of type string: \"integer\"",
            "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer or string: \"boolean\"",
            "spec.template.kind: Required value: must not be empty",
            "spec.template.apiVersion: Required value: must not be empty",
        ], causes);
        var missing = await InvalidAsync(widgets, Widget("small", """{"size": 0, "note": null}"""));
        Assert.Equal(["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"], missing);
        Assert.Equal(["spec.size: Required value"], await InvalidAsync(widgets, Widget("none", """{"note": "x", "port": "http"}""")));
    }

    [Fact]
    public async Task Objects_ArePrunedDefaulted_AndStoredAsTheStorageVersion()
    {
        var widgets = await WidgetsAsync("v1beta1");
        var body = Widget("w1", """{"size": 3, "bogus": 1, "extra": {"anything": [1]}, "template": {"apiVersion": "v1", "kind": "Pod", "x": 1}}""");
        body["apiVersion"] = "example.com/v1beta1";
        body["unknownTop"] = true;
        // v1beta1 keeps unknown fields and has no defaults: stored as v1, unpruned.
        var created = await _api.Service.CreateAsync(widgets, "default", body, false);
        Assert.Equal("example.com/v1", (string?)created["apiVersion"]);
        Assert.True((bool?)created["unknownTop"]);

        var v1 = _api.Service.Crds.Find("example.com", "v1", "widgets")!;
        var pruned = await _api.Service.CreateAsync(v1, "default", Widget("w2", """{"size": 3, "bogus": 1, "extra": {"anything": [1]}, "template": {"apiVersion": "v1", "kind": "Pod", "x": 1}}"""), false);
        Assert.Null(pruned["spec"]!["bogus"]);
        Assert.Equal("[1]", pruned["spec"]!["extra"]!["anything"]!.ToJsonString());
        Assert.Equal(1, (int?)pruned["spec"]!["template"]!["x"]);
        Assert.Equal(("red", 1), ((string?)pruned["spec"]!["color"], (int?)pruned["spec"]!["replicas"]));
        // Read through v1 (defaults on read, apiVersion rewritten) and v1beta1.
        var asBeta = v1.Custom!.Present("v1beta1", _api.Service.Get(v1, "default", "w2"));
        Assert.Equal("example.com/v1beta1", (string?)asBeta["apiVersion"]);
        var first = v1.Custom.Present("v1", _api.Service.Get(v1, "default", "w1"));
        Assert.Equal("red", (string?)first["spec"]!["color"]);
    }

    [Fact]
    public async Task StatusSubresource_KeepsTheSpec_AndTheMainResourceKeepsTheStatus()
    {
        var widgets = await WidgetsAsync();
        await _api.Service.CreateAsync(widgets, "default", Widget("w", """{"size": 2}"""), false);
        var current = _api.Service.Get(widgets, "default", "w");
        current["status"] = new JsonObject { ["phase"] = "Ready" };
        current["spec"]!["size"] = 9;
        var updated = await _api.Service.UpdateAsync(widgets, "default", "w", "status", current, false);
        Assert.Equal(("Ready", 2), ((string?)updated["status"]!["phase"], (int?)updated["spec"]!["size"]));
        updated["status"]!["phase"] = "Lost";
        updated["spec"]!["size"] = 5;
        var main = await _api.Service.UpdateAsync(widgets, "default", "w", null, updated, false);
        Assert.Equal(("Ready", 5), ((string?)main["status"]!["phase"], (int?)main["spec"]!["size"]));
    }

    [Fact]
    public async Task DeletingTheDefinition_DeletesItsObjects_AndStopsServingThem()
    {
        var widgets = await WidgetsAsync();
        await _api.Service.CreateAsync(widgets, "default", Widget("a", """{"size": 1}"""), false);
        await _api.Service.CreateAsync(widgets, "default", Widget("b", """{"size": 2}"""), false);
        var (remaining, _) = await _api.Service.DeleteAsync(Crds, null, "widgets.example.com", DeleteOptions.Default);
        Assert.Null(remaining);
        Assert.Empty(_api.Store.List("example.com/widgets", null).Items);
        Assert.Null(_api.Service.Crds.Find("example.com", "v1", "widgets"));
        Assert.Null(_api.Store.Get(Crds.Key, "", "widgets.example.com"));
    }

    [Fact]
    public async Task DeletingANamespace_DeletesItsCustomObjects()
    {
        await _api.Service.CreateAsync(ResourceCatalog.Namespaces, null, TempService.Json("""{"metadata":{"name":"team"}}"""), false);
        var widgets = await WidgetsAsync();
        await _api.Service.CreateAsync(widgets, "team", Widget("a", """{"size": 1}"""), false);
        await _api.Service.DeleteAsync(ResourceCatalog.Namespaces, null, "team", DeleteOptions.Default);
        Assert.Empty(_api.Store.List("example.com/widgets", "team").Items);
    }

    [Fact]
    public async Task PrinterColumns_AreTheTablesColumns()
    {
        var widgets = await WidgetsAsync();
        var created = await _api.Service.CreateAsync(widgets, "default", Widget("w", """{"size": 4, "owner": "ann"}"""), false);
        created["status"] = new JsonObject { ["phase"] = "Ready" };
        var table = TablePrinter.Print(widgets, created, false);
        Assert.Equal(["Name", "Size", "Color", "Phase", "Owner"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Equal(1, (int?)table["columnDefinitions"]![4]!["priority"]);
        Assert.Equal("[\"w\",4,\"red\",\"Ready\",\"ann\"]", table["rows"]![0]!["cells"]!.ToJsonString());
    }

    [Fact]
    public async Task Scale_FollowsTheDefinitionsPaths()
    {
        // Paths to fields the schema has (others would be pruned): size as the replicas, phase as the selector.
        var yaml = Widgets.Yaml.Replace("specReplicasPath: .spec.replicas", "specReplicasPath: .spec.size")
            .Replace("statusReplicasPath: .status.replicas", "statusReplicasPath: .status.replicas\n        labelSelectorPath: .status.phase");
        await _api.Service.CreateAsync(Crds, null, Crd(yaml), false);
        var widgets = _api.Service.Crds.Find("example.com", "v1", "widgets")!;
        await _api.Service.CreateAsync(widgets, "default", Widget("w", """{"size": 2}"""), false);
        var current = _api.Service.Get(widgets, "default", "w");
        current["status"] = new JsonObject { ["replicas"] = 1, ["phase"] = "app=w" };
        await _api.Service.UpdateAsync(widgets, "default", "w", "status", current, false);
        var scale = await _api.Service.GetScale(widgets, "default", "w");
        Assert.Equal(((long?)2, (long?)1, "app=w"), ((long?)scale["spec"]!["replicas"], (long?)scale["status"]!["replicas"], (string?)scale["status"]!["selector"]));
        scale["spec"]!["replicas"] = 7;
        await _api.Service.UpdateAsync(widgets, "default", "w", "scale", scale, false);
        Assert.Equal(7, (int?)_api.Service.Get(widgets, "default", "w")["spec"]!["size"]);
    }

    [Fact]
    public void JsonPath_TakesTheFormsPrinterColumnsUse()
    {
        var o = TempService.Json("""{"status":{"conditions":[{"type":"A","status":"False"},{"type":"Ready","status":"True"}]},"metadata":{"labels":{"a.b/c":"x"}},"list":[1,2]}""");
        Assert.Equal("True", JsonPathLite.Evaluate(o, """.status.conditions[?(@.type=="Ready")].status""").Single()!.ToString());
        Assert.Equal("x", JsonPathLite.Evaluate(o, ".metadata.labels['a.b/c']").Single()!.ToString());
        Assert.Equal("2", JsonPathLite.Evaluate(o, ".list[1]").Single()!.ToString());
        Assert.Equal(2, JsonPathLite.Evaluate(o, ".list[*]").Count);
        Assert.NotNull(JsonPathLite.Error(".a[?(@.x>1)]"));
        Assert.Null(JsonPathLite.Error("{.spec.size}"));
    }

    [Fact]
    public async Task APatternThatBacktracksForever_IsCutByItsTimeout()
    {
        var crd = Crd();
        crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["owner"] = new JsonObject { ["type"] = "string", ["pattern"] = "^(a+)+$" };
        await _api.Service.CreateAsync(Crds, null, crd, false);
        var widgets = _api.Service.Crds.Find("example.com", "v1", "widgets")!;
        var causes = await InvalidAsync(widgets, Widget("slow", $$"""{"size": 1, "owner": "{{new string('a', 40)}}!"}"""));
        Assert.Contains(causes, c => c.StartsWith("spec.owner: Invalid value:", StringComparison.Ordinal));
    }

    [Fact]
    public void CelRules_AreNamedAsNotEnforced()
    {
        var warnings = Validation.CrdValidation.NotEnforced(Crd());
        Assert.Equal(["spec.versions[0] spec: x-kubernetes-validations rule '!has(self.owner) || self.owner.startsWith('a')' is not enforced by Podnet (outside the CEL subset it evaluates)"], warnings);
    }
}
