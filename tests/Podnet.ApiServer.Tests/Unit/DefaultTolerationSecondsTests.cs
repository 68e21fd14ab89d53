using System.Text.Json.Nodes;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>The DefaultTolerationSeconds admission: not-ready and unreachable NoExecute tolerations of 300 s for new pods that have none.</summary>
public sealed class DefaultTolerationSecondsTests
{
    private const string NotReady = """{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}""";
    private const string Unreachable = """{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}""";

    private static JsonObject Pod(string? tolerations) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = "p", ["namespace"] = "x" },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "i:1" }), ["tolerations"] = tolerations is null ? null : JsonNode.Parse(tolerations) },
    };

    [Theory]
    [InlineData(null, $"[{NotReady},{Unreachable}]")]
    [InlineData("""[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":5}]""",
        $$"""[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":5},{{NotReady}}]""")]
    [InlineData("""[{"operator":"Exists"}]""", """[{"operator":"Exists"}]""")]
    [InlineData("""[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoSchedule"}]""",
        $$"""[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoSchedule"},{{NotReady}},{{Unreachable}}]""")]
    public void NewPod_GetsTheTolerationsItLacks(string? tolerations, string expected)
    {
        var pod = Pod(tolerations);
        Defaults.Apply(ResourceCatalog.Pods, pod, null);
        Assert.Equal(expected, pod["spec"]!["tolerations"]!.ToJsonString());
    }

    [Fact]
    public void UpdatedPod_IsLeftAsItIs()
    {
        var pod = Pod("[]");
        Defaults.Apply(ResourceCatalog.Pods, pod, Pod("[]"));
        Assert.Equal("[]", pod["spec"]!["tolerations"]!.ToJsonString());
    }

    [Fact]
    public void PodTemplates_AreNotTouched_OnlyPodsAre()
    {
        var deployment = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "d", ["namespace"] = "x" },
            ["spec"] = new JsonObject { ["selector"] = new JsonObject(), ["template"] = new JsonObject { ["spec"] = Pod(null)["spec"]!.DeepClone() } },
        };
        Defaults.Apply(ResourceCatalog.Deployments, deployment, null);
        Assert.Null(deployment["spec"]!["template"]!["spec"]!["tolerations"]);
    }
}
