using Podnet.Core.Cluster;
using System.Net;
using Podnet.Lab.Topology;

namespace Podnet.Lab.Tests;

public sealed class LabPlannerTests
{
    [Fact]
    public void Build_DefaultLab_NamesAndAddressesEveryHost()
    {
        var plan = LabPlanner.Build(new LabSpec { Nodes = 3 });
        Assert.Equal("pn-podnet-fabric", plan.FabricNetns);
        Assert.Equal(["pn-podnet-fabric", "pn-podnet-cp", "pn-podnet-out", "pn-podnet-n1", "pn-podnet-n2", "pn-podnet-n3"], plan.Namespaces);
        Assert.Equal("172.18.0.1/24", plan.Outside.Address.ToString());
        Assert.Empty(plan.Outside.Gateways);
        Assert.Equal("172.18.0.2/24", plan.ControlPlane.Address.ToString());
        Assert.Equal(["172.18.0.11/24", "172.18.0.12/24", "172.18.0.13/24"], plan.Nodes.Select(n => n.Address.ToString()));
        Assert.All(plan.Nodes.Append(plan.ControlPlane), h => Assert.Equal([IPAddress.Parse("172.18.0.1")], h.Gateways));
        Assert.Equal(["n1", "n2", "n3"], plan.Nodes.Select(n => n.Name));
    }

    [Fact]
    public void Build_DualStack_GivesEveryHostBothFamilies_ReadingLikeTheirNames()
    {
        var plan = LabPlanner.Build(new LabSpec { Nodes = 2, IpFamily = IpFamilies.Dual });
        Assert.Equal(["172.18.0.0/24", "fd00:172:18::/64"], plan.FabricSubnets.Select(s => s.ToString()));
        Assert.Equal(["172.18.0.11/24", "fd00:172:18::11/64"], plan.Nodes[0].Addresses.Select(a => a.ToString()));
        Assert.Equal(["172.18.0.1/24", "fd00:172:18::1/64"], plan.Outside.Addresses.Select(a => a.ToString()));
        Assert.Equal([IPAddress.Parse("172.18.0.1"), IPAddress.Parse("fd00:172:18::1")], plan.ControlPlane.Gateways);
    }

    [Fact]
    public void Build_Ipv6Only()
    {
        var plan = LabPlanner.Build(new LabSpec { Nodes = 1, IpFamily = IpFamilies.IPv6 });
        Assert.Equal("fd00:172:18::11/64", plan.Nodes[0].Address.ToString());
    }

    [Theory]
    [InlineData("n3", 10, "node 'n3'")]
    [InlineData("x1", 10, "node 'x1'")]
    [InlineData("n1", 101, "not 101")]
    [InlineData("n2", -1, "not -1")]
    public void Build_RefusesBadLinkLoss(string node, int percent, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => LabPlanner.Build(new LabSpec { Nodes = 2, LinkLoss = new Dictionary<string, int> { [node] = percent } }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Build_NodeSubnets_AddARouterAndASegmentPerSubnet()
    {
        var plan = LabPlanner.Build(new LabSpec { Nodes = 3, Routing = RoutingMode.Vxlan, NodeSubnets = new Dictionary<string, int> { ["n2"] = 1, ["n3"] = 1 } });
        Assert.Equal(["fabric0", "fabric1"], plan.Fabrics.Select(f => f.Bridge));
        Assert.Equal("172.18.1.0/24", plan.Fabrics[1].Networks[0].ToString());
        Assert.Equal("172.18.0.11/24", plan.Nodes[0].Address.ToString());
        Assert.Equal("172.18.1.12/24", plan.Nodes[1].Address.ToString());
        Assert.Equal("fabric1", plan.Nodes[1].Bridge);
        Assert.Equal([IPAddress.Parse("172.18.1.1")], plan.Nodes[1].Gateways);
        Assert.Equal([IPAddress.Parse("172.18.0.1")], plan.Nodes[0].Gateways);
        var router = plan.Router!;
        Assert.Equal("pn-podnet-rtr", router.Netns);
        Assert.Equal(["172.18.0.254/24", "172.18.1.1/24"], router.Ports.Select(p => p.Addresses[0].ToString()));
        Assert.Contains("pn-podnet-rtr", plan.Namespaces);
        Assert.True(LabPlanner.IsLabNetns("pn-podnet-rtr", "podnet"));
    }

    [Fact]
    public void Build_HostGwAcrossSubnets_IsRefusedSuggestingVxlan()
    {
        var e = Assert.Throws<ArgumentException>(() => LabPlanner.Build(new LabSpec { Nodes = 2, NodeSubnets = new Dictionary<string, int> { ["n2"] = 1 } }));
        Assert.Contains("n2 is in subnet 1", e.Message);
        Assert.Contains("--routing vxlan", e.Message);
        // Every node in the same (other) subnet is one L2 segment again: host-gw works there.
        var together = LabPlanner.Build(new LabSpec { Nodes = 2, NodeSubnets = new Dictionary<string, int> { ["n1"] = 1, ["n2"] = 1 } });
        Assert.All(together.Nodes, n => Assert.Equal("fabric1", n.Bridge));
    }

    [Fact]
    public void Build_NodeAddressesStayBelowTheLoadBalancerPool()
    {
        var plan = LabPlanner.Build(new LabSpec { Nodes = LabPlanner.MaxNodes });
        Assert.Equal("172.18.0.110/24", plan.Nodes[^1].Address.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void Build_RefusesNodeCountsOutOfRange(int nodes)
    {
        var e = Assert.Throws<ArgumentException>(() => LabPlanner.Build(new LabSpec { Nodes = nodes }));
        Assert.Contains(nodes.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Build_RefusesAFabricTooSmallForTheNodes()
    {
        var e = Assert.Throws<ArgumentException>(() => LabPlanner.Build(new LabSpec { Nodes = 10, FabricSubnet = IPNetwork.Parse("10.0.0.0/28") }));
        Assert.Contains("10.0.0.0/28", e.Message);
    }

    [Theory]
    [InlineData("podnet", true)]
    [InlineData("a", true)]
    [InlineData("lab-1", true)]
    [InlineData("twelve-chars", true)]
    [InlineData("thirteen-char", false)]
    [InlineData("", false)]
    [InlineData("Lab", false)]
    [InlineData("lab_1", false)]
    [InlineData("lab.1", false)]
    public void LabName_Rules(string name, bool valid)
    {
        Assert.Equal(valid, LabName.IsValid(name, out var error));
        Assert.Equal(valid, error is null);
        if (!valid && name.Length > 0)
        {
            Assert.Contains($"'{name}'", error);
        }
    }

    [Theory]
    [InlineData("pn-podnet-fabric", "podnet", true)]
    [InlineData("pn-podnet-n12", "podnet", true)]
    [InlineData("pn-podnet-cp", "podnet", true)]
    [InlineData("pn-podnet-2-fabric", "podnet", false)]
    [InlineData("pn-podnet-2-fabric", "podnet-2", true)]
    [InlineData("pn-podnet-n", "podnet", false)]
    [InlineData("pn-podnet-nx", "podnet", false)]
    [InlineData("pn-podnetx-cp", "podnet", false)]
    [InlineData("podnet-cp", "podnet", false)]
    [InlineData("pn-podnet-n1-p0a1b2c3d4e", "podnet", true)]
    [InlineData("pn-podnet-n1-p0a1b2c3d4e", "podnet-n1", false)]
    [InlineData("pn-podnet-2-n1-pabc", "podnet", false)]
    [InlineData("pn-podnet-2-n1-pabc", "podnet-2", true)]
    [InlineData("pn-podnet-rtr", "podnet", true)]
    public void IsLabNetns_NeverClaimsAnotherLabsNamespaces(string netns, string lab, bool expected) =>
        Assert.Equal(expected, LabPlanner.IsLabNetns(netns, lab));
}
