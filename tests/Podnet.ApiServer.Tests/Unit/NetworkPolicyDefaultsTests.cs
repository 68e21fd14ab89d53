using System.Text.Json.Nodes;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>policyTypes defaulting as kube-apiserver's SetDefaults_NetworkPolicy: Ingress, plus Egress only for a non-empty egress list.</summary>
public sealed class NetworkPolicyDefaultsTests
{
    [Theory]
    [InlineData("""{"podSelector":{}}""", """["Ingress"]""")]
    [InlineData("""{"podSelector":{},"egress":[]}""", """["Ingress"]""")]
    [InlineData("""{"podSelector":{},"egress":[{}]}""", """["Ingress","Egress"]""")]
    [InlineData("""{"podSelector":{},"egress":[{}],"policyTypes":["Egress"]}""", """["Egress"]""")]
    public void PolicyTypes_DefaultLikeUpstream(string spec, string expected)
    {
        var obj = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "p", ["namespace"] = "x" }, ["spec"] = JsonNode.Parse(spec) };
        Defaults.Apply(ResourceCatalog.NetworkPolicies, obj, null);
        Assert.Equal(expected, obj["spec"]!["policyTypes"]!.ToJsonString());
    }
}
