using System.Text.Json.Nodes;
using Podnet.ApiServer.Patch;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>kubectl apply's three-way strategic merge patch: what it sends, and what the server makes of it.</summary>
public sealed class ThreeWayPatchTests
{
    /// <summary>Same JSON, whatever the order of an object's keys.</summary>
    private static void Same(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual.ToJsonString()}");

    private static string Containers(string items) => "{\"spec\":{\"template\":{\"spec\":{\"containers\":[" + items + "]}}}}";

    [Fact]
    public void ContainerChangedAddedAndRemoved_ByName_WithSetElementOrder()
    {
        var original = TempService.Json(Containers("""{"name":"a","image":"1"},{"name":"b","image":"1"}"""));
        var modified = TempService.Json(Containers("""{"name":"a","image":"2"},{"name":"c","image":"1"}"""));
        var live = TempService.Json(Containers("""{"name":"a","image":"1","imagePullPolicy":"IfNotPresent"},{"name":"b","image":"1","imagePullPolicy":"IfNotPresent"}"""));
        var patch = ThreeWayPatch.Create(original, modified, live);
        Same("""{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"c"}],"containers":[{"$patch":"delete","name":"b"},{"image":"2","name":"a"},{"name":"c","image":"1"}]}}}}""", patch);
        Assert.Equal(
            Containers("""{"name":"a","image":"2","imagePullPolicy":"IfNotPresent"},{"name":"c","image":"1"}"""),
            StrategicMergePatch.Apply(live, patch).ToJsonString());
    }

    [Fact]
    public void PortsMergeByContainerPort_EnvByName_ServicePortsByPort()
    {
        var original = TempService.Json("""{"spec":{"ports":[{"port":80,"targetPort":8080}],"containers":[{"name":"a","ports":[{"containerPort":80}],"env":[{"name":"X","value":"1"},{"name":"Y","value":"1"}]}]}}""");
        var modified = TempService.Json("""{"spec":{"ports":[{"port":80,"targetPort":9090}],"containers":[{"name":"a","ports":[{"containerPort":80},{"containerPort":81}],"env":[{"name":"X","value":"2"}]}]}}""");
        var live = TempService.Json("""{"spec":{"ports":[{"port":80,"targetPort":8080,"protocol":"TCP"}],"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"X","value":"1"},{"name":"Y","value":"1"}]}]}}""");
        var result = StrategicMergePatch.Apply(live, ThreeWayPatch.Create(original, modified, live));
        Assert.Equal(
            """{"spec":{"ports":[{"port":80,"targetPort":9090,"protocol":"TCP"}],"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":81}],"env":[{"name":"X","value":"2"}]}]}}""",
            result.ToJsonString());
    }

    [Fact]
    public void FieldRemovedFromTheFile_IsDeleted_ButOnlyIfItWasApplied()
    {
        var original = TempService.Json("""{"metadata":{"labels":{"app":"web","tier":"x"}},"spec":{"replicas":3,"paused":false}}""");
        var modified = TempService.Json("""{"metadata":{"labels":{"app":"web"}},"spec":{"paused":false}}""");
        var live = TempService.Json("""{"metadata":{"labels":{"app":"web","tier":"x","owner":"ops"}},"spec":{"replicas":3,"paused":false,"revisionHistoryLimit":10}}""");
        var patch = ThreeWayPatch.Create(original, modified, live);
        Assert.Equal("""{"metadata":{"labels":{"tier":null}},"spec":{"replicas":null}}""", patch.ToJsonString());
        Assert.Equal("""{"metadata":{"labels":{"app":"web","owner":"ops"}},"spec":{"paused":false,"revisionHistoryLimit":10}}""", StrategicMergePatch.Apply(live, patch).ToJsonString());
    }

    [Fact]
    public void FieldsOfOtherWriters_AreKept_ScaleAndControllerAnnotation()
    {
        var config = """{"metadata":{"annotations":{}},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"1"}]}}}}""";
        var live = TempService.Json("""{"metadata":{"annotations":{"deployment.kubernetes.io/revision":"1"}},"spec":{"replicas":7,"template":{"spec":{"containers":[{"name":"a","image":"1"}]}}}}""");
        Assert.Empty(ThreeWayPatch.Create(TempService.Json(config), TempService.Json(config), live));
        var changed = TempService.Json(config.Replace("\"image\":\"1\"", "\"image\":\"2\""));
        var result = StrategicMergePatch.Apply(live, ThreeWayPatch.Create(TempService.Json(config), changed, live));
        Assert.Equal(7, (int)result["spec"]!["replicas"]!);
        Assert.Equal("1", (string?)result["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
        Assert.Equal("2", (string?)result["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
    }

    [Fact]
    public void EnvVarAddedByAnotherWriter_IsKept_AndTheListOrderRestated()
    {
        var config = TempService.Json(Containers("""{"name":"a","env":[{"name":"A","value":"1"}]}"""));
        var live = TempService.Json(Containers("""{"name":"a","env":[{"name":"A","value":"1"},{"name":"B","value":"other"}]}"""));
        var patch = ThreeWayPatch.Create(config, config, live);
        Same("""{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"$setElementOrder/env":[{"name":"A"}],"name":"a"}]}}}}""", patch);
        Assert.Equal(live.ToJsonString(), StrategicMergePatch.Apply(live, patch).ToJsonString());
    }

    [Fact]
    public void Finalizers_AreASet_DeletedThroughThePrimitiveListDirective()
    {
        var patch = ThreeWayPatch.Create(TempService.Json("""{"metadata":{"finalizers":["a","b"]}}"""), TempService.Json("""{"metadata":{"finalizers":["a","c"]}}"""), TempService.Json("""{"metadata":{"finalizers":["a","b","z"]}}"""));
        Same("""{"metadata":{"$deleteFromPrimitiveList/finalizers":["b"],"$setElementOrder/finalizers":["a","c"],"finalizers":["c"]}}""", patch);
        Assert.Equal("""{"metadata":{"finalizers":["a","c","z"]}}""", StrategicMergePatch.Apply(TempService.Json("""{"metadata":{"finalizers":["a","b","z"]}}"""), patch).ToJsonString());
    }

    [Fact]
    public void DeploymentStrategy_CarriesRetainKeys_SoRollingUpdateGoesWithRecreate()
    {
        var original = TempService.Json("""{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}""");
        var modified = TempService.Json("""{"spec":{"strategy":{"type":"Recreate"}}}""");
        var patch = ThreeWayPatch.Create(original, modified, original);
        Same("""{"spec":{"strategy":{"rollingUpdate":null,"$retainKeys":["type"],"type":"Recreate"}}}""", patch);
        Assert.Equal("""{"spec":{"strategy":{"type":"Recreate"}}}""", StrategicMergePatch.Apply(original, patch).ToJsonString());
    }

    [Fact]
    public void AtomicList_IsReplacedWhole_WhenItDiffers()
    {
        var patch = ThreeWayPatch.Create(TempService.Json("""{"spec":{"tolerations":[{"key":"a"}]}}"""), TempService.Json("""{"spec":{"tolerations":[{"key":"b"}]}}"""), TempService.Json("""{"spec":{"tolerations":[{"key":"a"}]}}"""));
        Assert.Equal("""{"spec":{"tolerations":[{"key":"b"}]}}""", patch.ToJsonString());
    }
}
