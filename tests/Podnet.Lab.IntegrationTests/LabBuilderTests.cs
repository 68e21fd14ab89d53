using Podnet.Core.Cluster;
using Podnet.Kernel;
using Podnet.Lab.Topology;

namespace Podnet.Lab.IntegrationTests;

public sealed class LabBuilderTests
{
    private static string UniqueLab() => "t" + Guid.NewGuid().ToString("N")[..8];

    [PrivilegedFact]
    public void UpAndDown_ThreeNodes_HostsReachEachOtherOverTheFabric_RootUntouched()
    {
        var before = RootSnapshot.Take();
        var lab = UniqueLab();
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 3 });
        try
        {
            LabBuilder.Up(plan);
            Assert.True(LabBuilder.Exists(lab));
            using var n1 = Netns.Open(plan.Nodes[0].Netns);
            using var cp = Netns.Open(plan.ControlPlane.Netns);
            using var outside = Netns.Open(plan.Outside.Netns);

            AssertPing(n1, "172.18.0.13");
            AssertPing(n1, "172.18.0.1");
            AssertPing(cp, "172.18.0.12");
            AssertPing(outside, "172.18.0.11");

            var routes = Tools.Ip(n1, "route", "show", "default");
            Assert.Equal("172.18.0.1", (string)routes.Single()!["gateway"]!);
            Assert.Empty(Tools.Ip(outside, "route", "show", "default"));
            Assert.Equal("1", Sysctl.Get(n1, "net.ipv4.ip_forward"));
            // The fabric namespace holds a bridge with one port per host and nothing else.
            using var fabric = Netns.Open(plan.FabricNetns);
            var ports = Tools.Ip(fabric, "link", "show", "master", LabPlanner.FabricBridge).Select(l => (string)l!["ifname"]!).Order();
            Assert.Equal(["cp", "n1", "n2", "n3", "out"], ports);
        }
        finally
        {
            LabBuilder.Down(lab);
        }
        Assert.False(LabBuilder.Exists(lab));
        Assert.DoesNotContain(Netns.List(), n => n.Contains(lab, StringComparison.Ordinal));
        Assert.Equal(before, RootSnapshot.Take());
    }

    [PrivilegedFact]
    public void DualStack_HostsReachEachOtherOverBothFamilies()
    {
        var lab = UniqueLab();
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 2, IpFamily = IpFamilies.Dual });
        try
        {
            LabBuilder.Up(plan);
            using var n1 = Netns.Open(plan.Nodes[0].Netns);
            AssertPing(n1, "fd00:172:18::12");
            AssertPing(n1, "172.18.0.12");
            AssertPing(n1, "fd00:172:18::1");
            Assert.Equal("fd00:172:18::1", (string)Tools.Ip(n1, "-6", "route", "show", "default").Single()!["gateway"]!);
            Assert.Equal("1", Sysctl.Get(n1, "net.ipv6.conf.all.forwarding"));
        }
        finally
        {
            LabBuilder.Down(lab);
        }
    }

    [PrivilegedFact]
    public void NodeSubnets_NodesInTwoSubnetsReachEachOtherThroughTheRouter()
    {
        var lab = UniqueLab();
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 2, Routing = RoutingMode.Vxlan, NodeSubnets = new Dictionary<string, int> { ["n2"] = 1 } });
        try
        {
            LabBuilder.Up(plan);
            using var n1 = Netns.Open(plan.Nodes[0].Netns);
            using var n2 = Netns.Open(plan.Nodes[1].Netns);
            AssertPing(n1, "172.18.1.12");
            AssertPing(n2, "172.18.0.11");
            AssertPing(n2, "172.18.0.1");
            // n2's packets to n1 cross the router: n2's own subnet does not hold n1.
            var path = Tools.Run(n2, "ip", "route", "get", "172.18.0.11").StandardOutput;
            Assert.Contains("via 172.18.1.1", path);
        }
        finally
        {
            LabBuilder.Down(lab);
        }
        Assert.False(LabBuilder.Exists(lab));
    }

    [PrivilegedFact]
    public void LinkLoss_DropsAboutThatShareOfANodesPackets_AndCanBeLifted()
    {
        var lab = UniqueLab();
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 2, LinkLoss = new Dictionary<string, int> { ["n1"] = 50 } });
        try
        {
            LabBuilder.Up(plan);
            using var n1 = Netns.Open(plan.Nodes[0].Netns);
            using var n2 = Netns.Open(plan.Nodes[1].Netns);
            // Static neighbour entries, so that only the pings (not ARP) meet the loss.
            using (var rt1 = Kernel.Netlink.RtNetlink.Open(n1))
            using (var rt2 = Kernel.Netlink.RtNetlink.Open(n2))
            {
                rt1.SetNeighbour(rt1.IndexOf("eth0"), plan.Nodes[1].Address.Address, rt2.GetLink("eth0").Mac!.Value);
                rt2.SetNeighbour(rt2.IndexOf("eth0"), plan.Nodes[0].Address.Address, rt1.GetLink("eth0").Mac!.Value);
            }
            // 200 pings through a 50% loss in each direction: about 75% are lost.
            var lossy = Tools.Run(n1, "ping", "-c", "200", "-i", "0.002", "-W", "1", "-q", "172.18.0.12").StandardOutput;
            var lost = double.Parse(System.Text.RegularExpressions.Regex.Match(lossy, @"([\d.]+)% packet loss").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            using var fabricNs = Netns.Open(plan.FabricNetns);
            Assert.True(lost is >= 55 and <= 95, $"{lost}% lost: {lossy}\n{Nft.ListText(fabricNs)}");
            // n2's own link is clean: it reaches the outside host without loss.
            Assert.Contains(" 0% packet loss", Tools.Run(n2, "ping", "-c", "20", "-i", "0.002", "-W", "1", "-q", "172.18.0.1").StandardOutput);

            using var fabric = Netns.Open(plan.FabricNetns);
            LabBuilder.SetLinkLoss(fabric, new Dictionary<string, int>());
            Assert.Contains(" 0% packet loss", Tools.Run(n1, "ping", "-c", "20", "-i", "0.002", "-W", "1", "-q", "172.18.0.12").StandardOutput);
        }
        finally
        {
            LabBuilder.Down(lab);
        }
    }

    [PrivilegedFact]
    public void Up_WhenANamespaceIsTaken_FailsAndRemovesWhatItMade()
    {
        var lab = UniqueLab();
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 2 });
        using var squatter = Netns.Create(plan.Nodes[1].Netns);
        try
        {
            var e = Assert.Throws<KernelException>(() => LabBuilder.Up(plan));
            Assert.Contains(plan.Nodes[1].Netns, e.Message);
            Assert.Equal([plan.Nodes[1].Netns], Netns.List().Where(n => LabPlanner.IsLabNetns(n, lab)));
        }
        finally
        {
            LabBuilder.Down(lab);
        }
        Assert.False(LabBuilder.Exists(lab));
    }

    [PrivilegedFact]
    public void Down_OfAnotherLabWithAPrefixName_LeavesThisLabAlone()
    {
        var lab = UniqueLab();
        var other = lab + "-b";
        var plan = LabPlanner.Build(new LabSpec { Name = other, Nodes = 1 });
        try
        {
            LabBuilder.Up(plan);
            Assert.Empty(LabBuilder.Down(lab));
            Assert.True(LabBuilder.Exists(other));
        }
        finally
        {
            LabBuilder.Down(other);
        }
    }

    private static void AssertPing(Netns from, string address)
    {
        var result = Tools.Run(from, "ping", "-c", "1", "-W", "2", address);
        Assert.True(result.Success, $"ping {address} from {from.Path}: {result.StandardOutput}{result.StandardError}");
    }
}
