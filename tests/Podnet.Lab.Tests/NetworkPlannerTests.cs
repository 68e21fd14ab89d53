using System.Net;
using Podnet.Core.Cluster;
using Podnet.Lab.State;
using Podnet.Lab.Topology;

namespace Podnet.Lab.Tests;

public sealed class NetworkPlannerTests
{
    private static NetworkAllocation Lab(string name, int slot, string architecture = "island", params string[] podCidrs) =>
        new(name, slot, architecture, podCidrs.Length == 0 ? ["10.244.0.0/16"] : podCidrs);

    [Fact]
    public void Allocate_GivesTheLowestFreeSlot_AndALabItsOwnAgain()
    {
        var existing = new[] { Lab("a", 0), Lab("c", 2) };
        Assert.Equal(1, NetworkPlanner.Allocate("net1", existing, Lab("b", 0)));
        Assert.Equal(2, NetworkPlanner.Allocate("net1", existing, Lab("c", 0)));
        Assert.Equal(5, NetworkPlanner.Allocate("net1", existing, Lab("b", 0), preferredSlot: 5));
        Assert.Equal(1, NetworkPlanner.Allocate("net1", existing, Lab("b", 0), preferredSlot: 2)); // taken by c
    }

    [Fact]
    public void Allocate_IslandAndIsolatedLabs_MayShareAPodCidr()
    {
        var existing = new[] { Lab("a", 0, "island"), Lab("b", 1, "isolated") };
        Assert.Equal(2, NetworkPlanner.Allocate("net1", existing, Lab("c", 0, "island")));
    }

    [Fact]
    public void Allocate_AFlatLabOverlappingAnotherLabsPodCidr_IsRefusedNamingBoth()
    {
        var existing = new[] { Lab("a", 0, "island"), Lab("b", 1, "island", "10.200.0.0/16") };
        var e = Assert.Throws<ArgumentException>(() => NetworkPlanner.Allocate("net1", existing, Lab("c", 0, "flat", "10.244.128.0/17")));
        Assert.Contains("lab c cannot join network net1", e.Message);
        Assert.Contains("pod CIDR 10.244.128.0/17 overlaps pod CIDR 10.244.0.0/16 of lab a", e.Message);
        Assert.Contains("--pod-cidr", e.Message);
        Assert.Equal(2, NetworkPlanner.Allocate("net1", existing, Lab("c", 0, "flat", "10.245.0.0/16")));
    }

    [Fact]
    public void Allocate_AnIslandLabOverlappingAFlatLab_IsRefusedToo()
    {
        var existing = new[] { Lab("f", 0, "flat", "10.245.0.0/16", "fd00:10:245::/56") };
        var e = Assert.Throws<ArgumentException>(() => NetworkPlanner.Allocate("net1", existing, Lab("i", 0, "island", "fd00:10:245::/56")));
        Assert.Contains("lab f is flat", e.Message);
        Assert.Contains("fd00:10:245::/56", e.Message);
    }

    [Fact]
    public void Allocate_AFullNetwork_IsRefused()
    {
        var existing = Enumerable.Range(0, NetworkPlanner.MaxLabs).Select(i => Lab($"l{i}", i)).ToArray();
        Assert.Contains("network net1 is full", Assert.Throws<ArgumentException>(() => NetworkPlanner.Allocate("net1", existing, Lab("x", 0))).Message);
    }

    [Fact]
    public void Build_OnANetwork_GivesTheLabItsSlotsFabricPoolAndUplink()
    {
        var plan = LabPlanner.Build(new LabSpec { Name = "b", Nodes = 2, IpFamily = IpFamilies.Dual, Network = new NetworkAttachment("campus", 1) });
        Assert.Equal(["172.18.16.0/24", "fd00:172:18:10::/64"], plan.FabricSubnets.Select(s => s.ToString()));
        Assert.Equal("172.18.16.11/24", plan.Nodes[0].Address.ToString());
        Assert.Equal(["172.18.16.200-172.18.16.250", "fd00:172:18:10::200-fd00:172:18:10::250"], plan.LoadBalancerPool);
        var network = plan.Network!;
        Assert.Equal("pn-net-campus", network.Netns);
        Assert.Equal("to-b", network.Port);
        Assert.Equal(["172.19.0.11/24", "fd00:172:19::11/64"], network.UplinkAddresses.Select(a => a.ToString()));
        Assert.Equal([IPAddress.Parse("172.19.0.1"), IPAddress.Parse("fd00:172:19::1")], network.Gateways);
        // Island: only the fabric block (room for the lab's node subnets) is routed to the lab.
        Assert.Equal(["172.18.16.0/20", "fd00:172:18:10::/60"], network.Routes.Select(r => r.ToString()));
        Assert.False(LabPlanner.IsLabNetns(network.Netns, "net"));
    }

    [Fact]
    public void Build_AFlatLabOnANetwork_HasItsPodCidrRoutedToIt_NodeSubnetsStayInItsBlock()
    {
        var plan = LabPlanner.Build(new LabSpec
        {
            Name = "f", Nodes = 2, Architecture = Architecture.Flat, Routing = RoutingMode.Vxlan,
            PodCidrs = [IPNetwork.Parse("10.245.0.0/16")], Network = new NetworkAttachment("campus", 2),
            NodeSubnets = new Dictionary<string, int> { ["n2"] = 15 },
        });
        Assert.Equal(["172.18.32.0/20", "10.245.0.0/16"], plan.Network!.Routes.Select(r => r.ToString()));
        Assert.Equal(["10.245.0.0/16"], plan.ClusterCidrs.Select(c => c.ToString()));
        Assert.Equal("172.18.47.12/24", plan.Nodes[1].Address.ToString());
        Assert.True(plan.Network.Routes[0].Contains(plan.Nodes[1].Address.Address));
    }

    [Fact]
    public void Build_WithoutANetwork_KeepsTheDefaults()
    {
        var plan = LabPlanner.Build(new LabSpec { Nodes = 1, IpFamily = IpFamilies.Dual });
        Assert.Null(plan.Network);
        Assert.Equal(["10.244.0.0/16", "fd00:10:244::/56"], plan.ClusterCidrs.Select(c => c.ToString()));
        Assert.Equal(["172.18.0.200-172.18.0.250", "fd00:172:18::200-fd00:172:18::250"], plan.LoadBalancerPool);
    }

    [Theory]
    [InlineData("10.96.0.0/12", "overlaps the service CIDR 10.96.0.0/16")]
    [InlineData("172.18.0.0/16", "overlaps the lab's fabric")]
    [InlineData("172.19.0.0/16", "overlaps the shared network's subnet")]
    [InlineData("10.1.0.0/25", "too small")]
    [InlineData("10.1.1.0/24", "too small: each of the 2 nodes")]
    [InlineData("fd00:1::/56", "give one IPv4 CIDR")]
    public void Build_RefusesABadPodCidr(string cidr, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => LabPlanner.Build(new LabSpec { Nodes = 2, PodCidrs = [IPNetwork.Parse(cidr)] }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Settings_PodCidrThatIsNotANetwork_IsRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => new LabSettings { PodCidr = "10.245.1.0/16" }.ToSpec());
        Assert.Contains("'10.245.1.0/16'", e.Message);
    }

    [Theory]
    [InlineData("campus", true)]
    [InlineData("a", true)]
    [InlineData("eightch8", true)]
    [InlineData("ninechar9", false)]
    [InlineData("net-1", false)]
    [InlineData("1net", false)]
    [InlineData("Net", false)]
    [InlineData("n1", false)]
    [InlineData("fabric", false)]
    [InlineData("", false)]
    public void NetworkName_Rules(string name, bool valid) =>
        Assert.Equal(valid, NetworkName.IsValid(name, out _));
}

public sealed class FlatRoutesTests
{
    [Fact]
    public void ForOutside_NodesInAnotherSubnet_AreReachedThroughTheRouter()
    {
        var plan = LabPlanner.Build(new LabSpec { Nodes = 2, Routing = RoutingMode.Vxlan, IpFamily = IpFamilies.Dual, NodeSubnets = new Dictionary<string, int> { ["n2"] = 1 } });
        Podnet.Core.Plans.DesiredRoute[] viaNodes =
        [
            new(IPNetwork.Parse("10.244.0.0/24"), IPAddress.Parse("172.18.0.11")),
            new(IPNetwork.Parse("10.244.1.0/24"), IPAddress.Parse("172.18.1.12")),
            new(IPNetwork.Parse("fd00:10:244:1::/64"), IPAddress.Parse("fd00:172:18:1::12")),
        ];
        Assert.Equal(["10.244.0.0/24 via 172.18.0.11", "10.244.1.0/24 via 172.18.0.254", "fd00:10:244:1::/64 via fd00:172:18::254"],
            FlatRoutes.ForOutside(plan, viaNodes).Select(r => $"{r.Destination} via {r.Gateway}"));
    }
}
