using System.Net;
using Podnet.Agent.Routing;
using Podnet.Core.Net;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Tests;

public sealed class RoutingPlannerTests
{
    private static NodeInfo Node(string name, string[] addresses, params string[] cidrs) =>
        new(name, addresses.Select(IPAddress.Parse).ToArray(), cidrs.Select(IPNetwork.Parse).ToArray());

    [Fact]
    public void HostGw_RoutesEveryOtherNodesCidrs_ViaItsAddressOfTheSameFamily()
    {
        var nodes = new[]
        {
            Node("n2", ["172.18.0.12", "fd00:172:18::12"], "10.244.2.0/24", "fd00:10:244:2::/64"),
            Node("n1", ["172.18.0.11"], "10.244.1.0/24"),
            Node("n3", ["172.18.0.13"], "10.244.3.0/24", "fd00:10:244:3::/64"),
            Node("n4", ["172.18.0.14"]),
        };
        var routes = HostGwPlanner.Build("n1", nodes).Select(r => $"{r.Destination} via {r.Gateway}");
        Assert.Equal(
        [
            "10.244.2.0/24 via 172.18.0.12",
            "fd00:10:244:2::/64 via fd00:172:18::12",
            "10.244.3.0/24 via 172.18.0.13",
        ], routes);
    }

    [Fact]
    public void HostGw_AloneInTheCluster_HasNoRoutes() =>
        Assert.Empty(HostGwPlanner.Build("n1", [Node("n1", ["172.18.0.11"], "10.244.1.0/24")]));

    [Fact]
    public void Egress_Island_Golden()
    {
        var tx = EgressPlanner.Build(Architecture.Island, [IPNetwork.Parse("10.244.0.0/16")], [IPNetwork.Parse("10.96.0.0/16")]);
        Assert.Equal("""
            add table inet podnet-egress
            flush table inet podnet-egress
            add chain inet podnet-egress postrouting { type nat hook postrouting priority 100 ; }
            add rule inet podnet-egress postrouting ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } masquerade

            """.Replace("\r", ""), tx.ToScript());
    }

    [Fact]
    public void Egress_Isolated_Golden()
    {
        var tx = EgressPlanner.Build(Architecture.Isolated, [IPNetwork.Parse("10.244.0.0/16")], [IPNetwork.Parse("10.96.0.0/16")]);
        Assert.Equal("""
            add table inet podnet-egress
            flush table inet podnet-egress
            add chain inet podnet-egress forward { type filter hook forward priority 0 ; }
            add chain inet podnet-egress postrouting { type nat hook postrouting priority 100 ; }
            add rule inet podnet-egress forward ct status dnat accept
            add rule inet podnet-egress postrouting ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } ct status dnat masquerade
            add rule inet podnet-egress forward ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } ct direction original reject with icmp type admin-prohibited

            """.Replace("\r", ""), tx.ToScript());
    }

    [Fact]
    public void Egress_Isolated_PodsReachTheNodesAddresses_BeforeTheReject()
    {
        var tx = EgressPlanner.Build(Architecture.Isolated, [IPNetwork.Parse("10.244.0.0/16")], [IPNetwork.Parse("10.96.0.0/16")],
            [IPAddress.Parse("172.18.0.12"), IPAddress.Parse("172.18.0.11"), IPAddress.Parse("fd00:172:18::11"), IPAddress.Parse("172.18.0.11")]);
        var rules = tx.Commands.Where(c => c.StartsWith("add rule inet podnet-egress forward", StringComparison.Ordinal)).ToArray();
        Assert.Equal(
            [
                "add rule inet podnet-egress forward ct status dnat accept",
                "add rule inet podnet-egress forward ip saddr 10.244.0.0/16 ip daddr { 172.18.0.11, 172.18.0.12 } accept",
                "add rule inet podnet-egress forward ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } ct direction original reject with icmp type admin-prohibited",
            ],
            rules);
    }

    [Fact]
    public void Egress_Flat_IsAnEmptyTable() =>
        Assert.Equal(["add table inet podnet-egress", "flush table inet podnet-egress"], EgressPlanner.Build(Architecture.Flat, [IPNetwork.Parse("10.244.0.0/16")], []).Commands);

    [Fact]
    public void Egress_IslandDualStack_OneRulePerFamily()
    {
        var tx = EgressPlanner.Build(Architecture.Island, 
            [IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("fd00:10:244::/56")],
            [IPNetwork.Parse("10.96.0.0/16"), IPNetwork.Parse("fd00:10:96::/112")]);
        Assert.Contains("ip6 saddr fd00:10:244::/56 ip6 daddr != { fd00:10:244::/56, fd00:10:96::/112 } masquerade", tx.ToScript());
        Assert.Equal(2, tx.Commands.Count(c => c.EndsWith("masquerade", StringComparison.Ordinal)));
    }
}

public sealed class VxlanPlannerTests
{
    [Fact]
    public void Build_PeersFromNodesWithAPublishedDevice_OverheadFromTheUnderlayFamily()
    {
        var self = new NodeInfo("n1", [IPAddress.Parse("172.18.0.11")], [IPNetwork.Parse("10.244.1.0/24")], VxlanPlanner.MacFor("n1"));
        var n2 = new NodeInfo("n2", [IPAddress.Parse("172.18.0.12")], [IPNetwork.Parse("10.244.2.0/24")], VxlanPlanner.MacFor("n2"));
        var unpublished = new NodeInfo("n3", [IPAddress.Parse("172.18.0.13")], [IPNetwork.Parse("10.244.3.0/24")]);
        var plan = VxlanPlanner.Build(self, IPAddress.Parse("172.18.0.11"), 1500, [self, n2, unpublished]);
        Assert.Equal(1450, plan.Mtu);
        Assert.Equal(["10.244.1.0/32"], plan.Addresses.Select(a => a.ToString()));
        var peer = Assert.Single(plan.Peers);
        Assert.Equal(new VxlanPeer("n2", IPNetwork.Parse("10.244.2.0/24"), IPAddress.Parse("10.244.2.0"), VxlanPlanner.MacFor("n2"), IPAddress.Parse("172.18.0.12")), peer);
        Assert.Equal(1430, VxlanPlanner.MtuFor(1500, IPAddress.Parse("fd00:172:18::11")));
    }

    [Fact]
    public void MacFor_IsStableLocalUnicastAndDistinct()
    {
        Assert.Equal(VxlanPlanner.MacFor("n1"), VxlanPlanner.MacFor("n1"));
        Assert.NotEqual(VxlanPlanner.MacFor("n1"), VxlanPlanner.MacFor("n2"));
        var first = VxlanPlanner.MacFor("n1").ToBytes()[0];
        Assert.Equal(0x02, first & 0x03);
    }
}
