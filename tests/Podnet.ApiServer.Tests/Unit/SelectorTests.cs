using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Selectors;

namespace Podnet.ApiServer.Tests.Unit;

public sealed class SelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "front", ["env"] = "prod" };

    [Theory]
    [InlineData("", true)]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app!=web", false)]
    [InlineData("app=db", false)]
    [InlineData("app=web,tier=front", true)]
    [InlineData("app=web,tier=back", false)]
    [InlineData("env in (prod, staging)", true)]
    [InlineData("env notin (prod)", false)]
    [InlineData("env in (dev),app=web", false)]
    [InlineData("tier", true)]
    [InlineData("!tier", false)]
    [InlineData("missing", false)]
    [InlineData("!missing", true)]
    [InlineData("missing notin (x)", true)]
    [InlineData("missing!=x", true)]
    public void LabelSelector_Parse_MatchesAsKubernetes(string selector, bool expected) =>
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Labels));

    [Theory]
    [InlineData("app=we b")]
    [InlineData("-bad=x")]
    [InlineData("env in (a b)")]
    public void LabelSelector_BadSyntax_Throws(string selector) =>
        Assert.Throws<FormatException>(() => LabelSelector.Parse(selector));

    [Fact]
    public void FieldSelector_PodFields_Match()
    {
        var pod = JsonNode.Parse("""{"metadata":{"name":"p","namespace":"n"},"spec":{"nodeName":"node-1"},"status":{"phase":"Running"}}""")!.AsObject();
        Assert.True(FieldSelector.Parse("spec.nodeName=node-1,status.phase!=Failed", ResourceCatalog.Pods).Matches(pod));
        Assert.True(FieldSelector.Parse("metadata.name==p,metadata.namespace=n", ResourceCatalog.Pods).Matches(pod));
        Assert.False(FieldSelector.Parse("spec.nodeName=node-2", ResourceCatalog.Pods).Matches(pod));
        Assert.True(FieldSelector.Parse("spec.nodeName=", ResourceCatalog.Pods).Matches(JsonNode.Parse("""{"metadata":{"name":"q"}}""")!.AsObject()));
    }

    [Fact]
    public void FieldSelector_UnsupportedField_Throws()
    {
        var error = Assert.Throws<FormatException>(() => FieldSelector.Parse("spec.nodeName=x", ResourceCatalog.ConfigMaps));
        Assert.Contains("field label not supported: spec.nodeName", error.Message);
    }
}
