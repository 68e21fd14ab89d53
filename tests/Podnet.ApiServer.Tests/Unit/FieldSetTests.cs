using System.Text.Json.Nodes;
using Podnet.ApiServer.Fields;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>Field sets as structured-merge-diff writes them in managedFields (FieldsV1).</summary>
public sealed class FieldSetTests
{
    [Fact]
    public void AppliedConfiguration_OwnsLeavesAndKeyedItems_InFieldsV1()
    {
        var config = TempService.Json("""
            {"metadata":{"labels":{"app":"web"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
                     "template":{"spec":{"containers":[{"name":"web","image":"x","ports":[{"containerPort":8080}],"args":["a","b"]}]}}}}
            """);
        Assert.Equal(
            """{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:args":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}""",
            FieldWalk.Of(config).ToJson().ToJsonString(Bodies.Options));
    }

    [Fact]
    public void FieldsV1_RoundTrips_AndPathsPrintAsKubeApiserverDoes()
    {
        var json = """{"f:metadata":{"f:finalizers":{".":{},"v:\"a\"":{}}},"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}""";
        var set = FieldSet.FromJson(TempService.Json(json));
        Assert.Equal(json, set.ToJson().ToJsonString(Bodies.Options));
        Assert.Equal(
            [".metadata.finalizers", ".metadata.finalizers[=\"a\"]", ".spec.ports[port=80,protocol=\"TCP\"]", ".spec.ports[port=80,protocol=\"TCP\"].port"],
            set.Paths().Select(FieldSet.Display));
    }

    [Fact]
    public void SetOperations_DropEmptyBranches()
    {
        var a = FieldSet.FromJson(TempService.Json("""{"f:spec":{"f:replicas":{},"f:paused":{}}}"""));
        var b = FieldSet.FromJson(TempService.Json("""{"f:spec":{"f:replicas":{}},"f:data":{}}"""));
        Assert.Equal("""{"f:spec":{"f:paused":{}}}""", a.Difference(b).ToJson().ToJsonString(Bodies.Options));
        Assert.Equal("""{"f:spec":{"f:replicas":{}}}""", a.Intersection(b).ToJson().ToJsonString(Bodies.Options));
        Assert.Equal("""{"f:data":{},"f:spec":{"f:paused":{},"f:replicas":{}}}""", a.Union(b).ToJson().ToJsonString(Bodies.Options));
        Assert.True(a.Difference(a).IsEmpty);
    }

    [Fact]
    public void Compare_NewMapsAndItemsAreMembers_ChangedLeavesModified_GoneItemsRemoved()
    {
        var before = TempService.Json("""{"metadata":{},"spec":{"replicas":1,"containers":[{"name":"a","image":"1"},{"name":"b","image":"1"}]}}""");
        var after = TempService.Json("""{"metadata":{"labels":{"x":"y"}},"spec":{"replicas":2,"containers":[{"name":"a","image":"1"},{"name":"c","image":"1"}]}}""");
        var change = FieldWalk.Compare(before, after);
        Assert.Equal("""{"f:metadata":{"f:labels":{".":{},"f:x":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{}}}}}""", change.Added.ToJson().ToJsonString(Bodies.Options));
        Assert.Equal("""{"f:spec":{"f:replicas":{}}}""", change.Modified.ToJson().ToJsonString(Bodies.Options));
        Assert.Equal("""{"f:spec":{"f:containers":{"k:{\"name\":\"b\"}":{".":{},"f:image":{},"f:name":{}}}}}""", change.Removed.ToJson().ToJsonString(Bodies.Options));
    }
}
