using System.Text.Json.Nodes;
using Podnet.ApiServer.Patch;

namespace Podnet.ApiServer.Tests.Unit;

public sealed class PatchTests
{
    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void MergePatch_NullDeletes_ObjectsMerge_ListsReplace()
    {
        var result = MergePatch.Apply(Obj("""{"a":1,"b":{"c":2,"d":3},"l":[1,2]}"""), Obj("""{"a":null,"b":{"c":5},"l":[3]}"""));
        Assert.Equal("""{"b":{"c":5,"d":3},"l":[3]}""", result!.ToJsonString());
    }

    [Fact]
    public void StrategicMerge_ContainersMergeByName_EnvByName_PortsByContainerPort_PatchItemsFirst()
    {
        var original = Obj("""{"spec":{"containers":[{"name":"a","image":"x","env":[{"name":"E","value":"1"}],"ports":[{"containerPort":80}]},{"name":"b","image":"y"}]}}""");
        var patch = Obj("""{"spec":{"containers":[{"name":"a","image":"x2","env":[{"name":"F","value":"2"}],"ports":[{"containerPort":80,"name":"http"}]}]}}""");
        var result = StrategicMergePatch.Apply(original, patch);
        Assert.Equal("""{"spec":{"containers":[{"name":"a","image":"x2","env":[{"name":"F","value":"2"},{"name":"E","value":"1"}],"ports":[{"containerPort":80,"name":"http"}]},{"name":"b","image":"y"}]}}""", result.ToJsonString());
    }

    [Fact]
    public void StrategicMerge_ServicePortsMergeByPort_AndDeleteDirective_ServerOnlyItemsAfterNewOnes()
    {
        var original = Obj("""{"spec":{"ports":[{"port":80,"name":"http"},{"port":443,"name":"https"}]}}""");
        var patch = Obj("""{"spec":{"ports":[{"port":443,"$patch":"delete"},{"port":8080,"name":"alt"}]}}""");
        Assert.Equal("""{"spec":{"ports":[{"port":8080,"name":"alt"},{"port":80,"name":"http"}]}}""", StrategicMergePatch.Apply(original, patch).ToJsonString());
    }

    [Fact]
    public void StrategicMerge_ListWithoutMergeKey_IsReplaced_AndNullDeletes()
    {
        var original = Obj("""{"spec":{"tolerations":[{"key":"a"}],"nodeSelector":{"x":"1","y":"2"}}}""");
        var patch = Obj("""{"spec":{"tolerations":[{"key":"b"}],"nodeSelector":{"x":null}}}""");
        Assert.Equal("""{"spec":{"tolerations":[{"key":"b"}],"nodeSelector":{"y":"2"}}}""", StrategicMergePatch.Apply(original, patch).ToJsonString());
    }

    [Fact]
    public void StrategicMerge_ReplaceDirective_And_SetElementOrder_And_DeleteFromPrimitiveList()
    {
        var original = Obj("""{"metadata":{"finalizers":["a","b"],"labels":{"x":"1"}},"spec":{"containers":[{"name":"a"},{"name":"b"}]}}""");
        var patch = Obj("""{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"labels":{"$patch":"replace","y":"2"}},"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}}""");
        Assert.Equal("""{"metadata":{"finalizers":["b"],"labels":{"y":"2"}},"spec":{"containers":[{"name":"b"},{"name":"a"}]}}""", StrategicMergePatch.Apply(original, patch).ToJsonString());
    }

    [Fact]
    public void StrategicMerge_ServerOnlyItem_KeepsItsPlaceBeforeTheNextNamedItem()
    {
        // Upstream's mergeSortedSlice: x sat before b on the server, and b is the first named item, so x leads.
        var original = Obj("""{"spec":{"containers":[{"name":"a"},{"name":"x"},{"name":"b"}]}}""");
        var patch = Obj("""{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"},{"name":"c"}],"containers":[{"name":"c"}]}}""");
        Assert.Equal("""{"spec":{"containers":[{"name":"x"},{"name":"b"},{"name":"a"},{"name":"c"}]}}""", StrategicMergePatch.Apply(original, patch).ToJsonString());
    }

    [Fact]
    public void JsonPatch_AddReplaceRemoveTest()
    {
        var ops = JsonNode.Parse("""[{"op":"add","path":"/metadata/labels/a~1b","value":"1"},{"op":"replace","path":"/spec/replicas","value":3},{"op":"remove","path":"/spec/paused"},{"op":"add","path":"/l/-","value":9},{"op":"test","path":"/spec/replicas","value":3}]""")!.AsArray();
        var result = JsonPatch.Apply(Obj("""{"metadata":{"labels":{}},"spec":{"replicas":1,"paused":true},"l":[1]}"""), ops);
        Assert.Equal("""{"metadata":{"labels":{"a/b":"1"}},"spec":{"replicas":3},"l":[1,9]}""", result.ToJsonString());
    }

    [Fact]
    public void JsonPatch_FailedTestOrMissingPath_Throws()
    {
        Assert.Throws<FormatException>(() => JsonPatch.Apply(Obj("""{"a":1}"""), JsonNode.Parse("""[{"op":"test","path":"/a","value":2}]""")!.AsArray()));
        Assert.Throws<FormatException>(() => JsonPatch.Apply(Obj("""{"a":1}"""), JsonNode.Parse("""[{"op":"remove","path":"/b"}]""")!.AsArray()));
    }
}
