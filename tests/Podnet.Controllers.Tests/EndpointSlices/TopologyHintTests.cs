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

    private static V1Node ZoneNode(string name, string? zone, string cpu = "2", bool ready = true, string? role = null)
    {
        var labels = new Dictionary<string, string>();
        if (zone is not null)
        {
            labels["topology.kubernetes.io/zone"] = zone;
        }
        if (role is not null)
        {
            labels["node-role.kubernetes.io/" + role] = "";
        }
        var node = Node(name, ready, labels: labels);
        node.Status.Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu) };
        return node;
    }

    private static V1Service AutoService(string annotation = "service.kubernetes.io/topology-mode", string value = "Auto")
    {
        var service = Service();
        service.Metadata.Annotations = new Dictionary<string, string> { [annotation] = value };
        return service;
    }

    private static Dictionary<string, string?> HintsByPod(EndpointSlicePlan plan) =>
        plan.Create.SelectMany(s => s.Endpoints).ToDictionary(e => e.TargetRef.Name, e => e.Hints is null ? null : string.Join(",", e.Hints.ForZones.Select(z => z.Name)));

    private static readonly V1Pod[] ThreeInZ1OneInZ2 =
    [
        Pod("a", "10.244.1.1", node: "n1"), Pod("b", "10.244.1.2", node: "n1"), Pod("c", "10.244.1.3", node: "n1"), Pod("d", "10.244.2.1", node: "n2"),
    ];

    [Theory]
    [InlineData("service.kubernetes.io/topology-mode", "Auto")]
    [InlineData("service.kubernetes.io/topology-mode", "auto")]
    [InlineData("service.kubernetes.io/topology-aware-hints", "Auto")]
    public void Auto_SharesEndpointsOutByZoneCpu_MovingSurplusToTheShortZone(string annotation, string value)
    {
        var nodes = new[] { ZoneNode("n1", "z1"), ZoneNode("n2", "z2") }.ToDictionary(n => n.Metadata.Name);
        var hints = HintsByPod(EndpointSliceCalc.Calc(AutoService(annotation, value), ThreeInZ1OneInZ2, [], nodes));
        // Equal CPU: two endpoints each; z1's first endpoint goes to z2.
        Assert.Equal(new Dictionary<string, string?> { ["a"] = "z2", ["b"] = "z1", ["c"] = "z1", ["d"] = "z2" }, hints);
    }

    [Fact]
    public void Auto_FollowsCpu_NotNodeCount()
    {
        var nodes = new[] { ZoneNode("n1", "z1", cpu: "6"), ZoneNode("n2", "z2", cpu: "2") }.ToDictionary(n => n.Metadata.Name);
        var hints = HintsByPod(EndpointSliceCalc.Calc(AutoService(), ThreeInZ1OneInZ2, [], nodes));
        Assert.Equal(new Dictionary<string, string?> { ["a"] = "z1", ["b"] = "z1", ["c"] = "z1", ["d"] = "z2" }, hints);
    }

    [Fact]
    public void Auto_TakesPrecedenceOverTrafficDistribution()
    {
        var nodes = new[] { ZoneNode("n1", "z1"), ZoneNode("n2", "z2") }.ToDictionary(n => n.Metadata.Name);
        var service = AutoService();
        service.Spec.TrafficDistribution = "PreferClose";
        Assert.Equal("z2", HintsByPod(EndpointSliceCalc.Calc(service, ThreeInZ1OneInZ2, [], nodes))["a"]);
        service.Metadata.Annotations["service.kubernetes.io/topology-mode"] = "Disabled";
        Assert.Equal("z1", HintsByPod(EndpointSliceCalc.Calc(service, ThreeInZ1OneInZ2, [], nodes))["a"]);
    }

    [Fact]
    public void Auto_IgnoresControlPlaneAndNotReadyNodes_ButANodeWithoutAZoneDisablesHints()
    {
        var nodes = new[] { ZoneNode("n1", "z1"), ZoneNode("n2", "z2"), ZoneNode("cp", null, role: "control-plane"), ZoneNode("n3", null, ready: false) }.ToDictionary(n => n.Metadata.Name);
        Assert.All(HintsByPod(EndpointSliceCalc.Calc(AutoService(), ThreeInZ1OneInZ2, [], nodes)).Values, Assert.NotNull);
        nodes["n3"] = ZoneNode("n3", null);
        Assert.All(HintsByPod(EndpointSliceCalc.Calc(AutoService(), ThreeInZ1OneInZ2, [], nodes)).Values, Assert.Null);
    }

    [Fact]
    public void Auto_WithholdsHints_AsUpstreamsSafeguardsSay()
    {
        var two = new Dictionary<string, double> { ["z1"] = 0.5, ["z2"] = 0.5 };
        V1Endpoint Ep(string? zone, bool ready = true) => new() { Addresses = ["10.244.0.1"], Zone = zone, Conditions = new V1EndpointConditions { Ready = ready } };
        Assert.StartsWith("Insufficient Node information", TopologyAutoHints.Apply([Ep("z1"), Ep("z2")], null));
        Assert.Equal("Insufficient number of endpoints (1 endpoints, 2 zones)", TopologyAutoHints.Apply([Ep("z1"), Ep("z2", ready: false)], two));
        Assert.StartsWith("Unable to allocate minimum required endpoints", TopologyAutoHints.Apply([Ep("z1"), Ep("z1"), Ep("z1")], new Dictionary<string, double> { ["z1"] = 0.9, ["z2"] = 0.1 }));
        var noZone = new[] { Ep("z1"), Ep(null) };
        Assert.StartsWith("One or more endpoints do not have a zone", TopologyAutoHints.Apply(noZone, two));
        Assert.All(noZone, e => Assert.Null(e.Hints));
        var withUnready = new[] { Ep("z1"), Ep("z2"), Ep("z2", ready: false) };
        Assert.Null(TopologyAutoHints.Apply(withUnready, two));
        Assert.Equal(["z1", "z2", null], withUnready.Select(e => e.Hints?.ForZones.Single().Name));
    }

    [Fact]
    public void Auto_OneZoneOnly_GivesNoRatios()
    {
        Assert.Null(TopologyAutoHints.ZoneRatios([ZoneNode("n1", "z1"), ZoneNode("n2", "z1")]));
        Assert.Equal(0.75, TopologyAutoHints.ZoneRatios([ZoneNode("n1", "z1", cpu: "3"), ZoneNode("n2", "z2", cpu: "1000m")])!["z1"]);
    }
}
