using k8s.Models;
using Podnet.Controllers.EndpointSlices;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.EndpointSlices;

/// <summary>Topology hints for spec.trafficDistribution, as upstream's EndpointSlice controller writes them.</summary>
public sealed class TopologyHintTests
{
    [Theory]
    [InlineData("PreferClose", true, "n1", "z1", "z1", "")]
    [InlineData("PreferSameZone", true, "n1", "z1", "z1", "")]
    [InlineData("PreferSameNode", true, "n1", "z1", "z1", "n1")]
    [InlineData("PreferSameNode", true, "n1", null, "", "n1")]
    [InlineData("PreferClose", true, "n1", null, null, null)]
    [InlineData("PreferClose", false, "n1", "z1", null, null)]
    [InlineData(null, true, "n1", "z1", null, null)]
    [InlineData("SomethingNew", true, "n1", "z1", null, null)]
    public void Hints(string? distribution, bool ready, string node, string? zone, string? forZones, string? forNodes)
    {
        var hints = EndpointBuilder.Hints(distribution, ready, node, zone);
        Assert.Equal(forZones, hints is null ? null : string.Join(",", (hints.ForZones ?? []).Select(z => z.Name)));
        Assert.Equal(forNodes, hints is null ? null : string.Join(",", (hints.ForNodes ?? []).Select(n => n.Name)));
    }

    [Fact]
    public void Calc_PreferClose_HintsEachReadyEndpointWithItsZone_AndAChangedDistributionRewritesTheSlice()
    {
        var service = Service();
        service.Spec.TrafficDistribution = "PreferClose";
        var nodes = new Dictionary<string, V1Node>
        {
            ["n1"] = Node("n1", labels: new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "z1" }),
            ["n2"] = Node("n2", labels: new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "z2" }),
        };
        var slice = Assert.Single(EndpointSliceCalc.Calc(service, [Pod("web-a", "10.244.1.1", node: "n1"), Pod("web-b", "10.244.2.1", node: "n2")], [], nodes).Create);
        Assert.Equal(["z1", "z2"], slice.Endpoints.OrderBy(e => e.Addresses[0]).Select(e => e.Hints.ForZones.Single().Name));
        service.Spec.TrafficDistribution = null;
        var update = Assert.Single(EndpointSliceCalc.Calc(service, [Pod("web-a", "10.244.1.1", node: "n1"), Pod("web-b", "10.244.2.1", node: "n2")], [slice], nodes).Update);
        Assert.All(update.Endpoints, e => Assert.Null(e.Hints));
    }
}
