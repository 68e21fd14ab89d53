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
