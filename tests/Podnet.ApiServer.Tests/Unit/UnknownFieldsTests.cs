using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Validation;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>The walk of a body along its kind's schema (kinds.schemas.json): what it reports and what it takes out.</summary>
public sealed class UnknownFieldsTests
{
    private static (List<string> Found, string Left) Prune(ResourceInfo r, string body, string? sub = null, bool patch = false)
    {
        var node = JsonNode.Parse(body)!;
        var found = UnknownFields.Prune(r, sub, node, patch);
        return (found, node.ToJsonString());
    }

    [Fact]
    public void TopLevelField_TheKindLacks_IsFound_AndRemoved()
    {
        var (found, left) = Prune(ResourceCatalog.ConfigMaps, """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"},"notAField":{"nested":1}}""");
        Assert.Equal(["notAField"], found);
        Assert.Equal("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}""", left);
    }

    [Fact]
    public void NestedField_IsNamedByItsPath()
    {
        var (found, left) = Prune(ResourceCatalog.Deployments, """{"metadata":{"name":"d"},"spec":{"replica":2,"selector":{"matchLabels":{"app":"web"},"matchLabelz":{}}}}""");
        Assert.Equal(["spec.replica", "spec.selector.matchLabelz"], found);
        Assert.Equal("""{"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"web"}}}}""", left);
    }

    [Fact]
    public void FieldInAListItem_IsNamedWithTheItemsIndex()
    {
        var (found, left) = Prune(ResourceCatalog.Deployments, """
            {"spec":{"template":{"spec":{"containers":[
              {"name":"a","image":"i"},
              {"name":"b","image":"i","imagePullPolicyy":"Always","ports":[{"containerPort":80,"hostport":8080}]}]}}}}
            """);
        Assert.Equal(["spec.template.spec.containers[1].imagePullPolicyy", "spec.template.spec.containers[1].ports[0].hostport"], found);
        Assert.Equal("""{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"i"},{"name":"b","image":"i","ports":[{"containerPort":80}]}]}}}}""", left);
    }

    [Fact]
    public void MapValues_AndPreservedUnknownFields_TakeAnyKey()
    {
        var body = """{"metadata":{"name":"c","labels":{"any-key":"v"},"annotations":{"x/y":"z"},"managedFields":[{"manager":"m","fieldsV1":{"f:data":{"f:anything":{}}}}]},"data":{"whatever":"v"},"binaryData":{"b":"AA=="}}""";
        var (found, left) = Prune(ResourceCatalog.ConfigMaps, body);
        Assert.Empty(found);
        Assert.Equal(body, left);
        var (limits, _) = Prune(ResourceCatalog.Pods, """{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1","example.com/gpu":"2"}}}]}}""");
        Assert.Empty(limits);
    }

    [Fact]
    public void MapOfObjects_WalksEachValue_FakeShape()
    {
        // No served kind has a map whose values are objects with fields, so this shape is made here.
        var item = new Shape { Properties = new() { ["port"] = new Shape() } };
        var shape = new Shape { Properties = new() { ["spec"] = new Shape { Properties = new() { ["things"] = new Shape { Values = item } } } } };
        var body = JsonNode.Parse("""{"spec":{"things":{"a":{"port":1},"b":{"port":2,"prot":3},"$patch":"replace"}}}""")!;
        Assert.Equal(["spec.things.b.prot"], UnknownFields.Prune(shape, body, patch: true));
        Assert.Equal("""{"spec":{"things":{"a":{"port":1},"b":{"port":2},"$patch":"replace"}}}""", body.ToJsonString());
    }

    [Fact]
    public void PatchDirectives_AreNotFields()
    {
        var patch = """
            {"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]},
             "spec":{"$retainKeys":["type"],"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],
               "containers":[{"$patch":"delete"},{"name":"a","$patch":"replace","imagePullPolicyy":"Always"}]}}}}
            """;
        var (found, left) = Prune(ResourceCatalog.Deployments, patch, patch: true);
        Assert.Equal(["spec.template.spec.containers[0].imagePullPolicyy"], found);
        Assert.Contains("""[{"$patch":"delete"},{"name":"a","$patch":"replace"}]""", left, StringComparison.Ordinal);
        Assert.Contains("$setElementOrder/containers", left, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralUnknownFields_AreAllFound_InDocumentOrder()
    {
        var (found, _) = Prune(ResourceCatalog.Pods, """{"zz":1,"metadata":{"bogus":1,"name":"p"},"spec":{"containers":[{"name":"c","x":1}],"a":1},"aa":2}""");
        Assert.Equal(["zz", "metadata.bogus", "spec.containers[0].x", "spec.a", "aa"], found);
    }

    [Fact]
    public void Pruning_LeavesEveryKnownField_AsItWas()
    {
        var known = """
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"n","labels":{"a":"b"}},
             "spec":{"type":"NodePort","selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http","nodePort":30080,"protocol":"TCP"}],
               "ipFamilies":["IPv4"],"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10}}},
             "status":{"loadBalancer":{"ingress":[{"ip":"172.18.0.200","ports":[{"port":80,"protocol":"TCP"}]}]}}}
            """;
        var withUnknown = known.Replace("\"port\":80,", "\"port\":80,\"portt\":1,", StringComparison.Ordinal).Replace("\"timeoutSeconds\":10", "\"timeoutSeconds\":10,\"x\":[1]", StringComparison.Ordinal);
        var (found, left) = Prune(ResourceCatalog.Services, withUnknown);
        Assert.Equal(["spec.ports[0].portt", "spec.sessionAffinityConfig.clientIP.x", "status.loadBalancer.ingress[0].ports[0].portt"], found);
        Assert.Equal(JsonNode.Parse(known)!.ToJsonString(), left);
    }

    [Fact]
    public void ScaleSubresource_IsCheckedAgainstScale_NotTheKind()
    {
        var body = """{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"d"},"spec":{"replicas":3,"selector":{}}}""";
        Assert.Equal(["spec.selector"], Prune(ResourceCatalog.Deployments, body, sub: "scale").Found);
        Assert.Empty(Prune(ResourceCatalog.Deployments, body).Found);
    }

    [Fact]
    public void NullForAFieldTheKindLacks_InAPatch_OnlyDeletesIt()
    {
        var (found, left) = Prune(ResourceCatalog.ConfigMaps, """{"notAField":null,"data":{"a":null}}""", patch: true);
        Assert.Empty(found);
        Assert.Equal("""{"notAField":null,"data":{"a":null}}""", left);
        Assert.Equal(["notAField"], Prune(ResourceCatalog.ConfigMaps, """{"notAField":null}""").Found);
    }

    [Fact]
    public void ValuesOfTheWrongType_AreLeftToValidation()
    {
        var (found, left) = Prune(ResourceCatalog.Deployments, """{"spec":"text","metadata":[1]}""");
        Assert.Empty(found);
        Assert.Equal("""{"spec":"text","metadata":[1]}""", left);
    }

    [Fact]
    public void KindWithoutASchema_IsNotChecked()
    {
        var widgets = new ResourceInfo("example.com", "v1", "widgets", "Widget", true, [], [], []);
        Assert.Empty(Prune(widgets, """{"anything":1}""").Found);
    }
}
