using System.Net;
using k8s.Models;
using Podnet.Controllers.NodeIpam;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.NodeIpam;

public sealed class NodeIpamCalcTests
{
    private static readonly NodeIpamConfig V4 = new([IPNetwork.Parse("10.244.0.0/16")]);
    private static readonly NodeIpamConfig Dual = new([IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("fd00:10:244::/56")]);

    private static V1Node WithCidrs(string name, params string[] cidrs)
    {
        var node = Node(name);
        node.Spec.PodCIDRs = cidrs.Length > 0 ? cidrs : null;
        node.Spec.PodCIDR = cidrs.FirstOrDefault();
        return node;
    }

    private static string Summary(NodeIpamPlan plan) =>
        string.Join(" ", plan.Assign.Select(a => $"{a.NodeName}={string.Join(",", a.PodCidrs)}").Concat(plan.Exhausted.Select(e => $"{e}=exhausted")));

    [Theory]
    [InlineData("n1 n2 n3", "", "n1=10.244.0.0/24 n2=10.244.1.0/24 n3=10.244.2.0/24")]
    [InlineData("n1 n3", "n2:10.244.0.0/24", "n1=10.244.1.0/24 n3=10.244.2.0/24")]
    [InlineData("n4", "n1:10.244.0.0/24 n3:10.244.2.0/24", "n4=10.244.1.0/24")]
    [InlineData("n2", "n1:10.244.0.0/23", "n2=10.244.2.0/24")]
    [InlineData("n2", "n1:192.168.0.0/24", "n2=10.244.0.0/24")]
    [InlineData("", "n1:10.244.0.0/24", "")]
    public void Calc_V4_LowestFreeSubnet_HonouringWhatNodesHave(string fresh, string assigned, string expected)
    {
        var nodes = fresh.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(n => WithCidrs(n))
            .Concat(assigned.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => WithCidrs(a.Split(':')[0], a.Split(':')[1])));

        Assert.Equal(expected, Summary(NodeIpamCalc.Calc(V4, nodes)));
    }

    [Fact]
    public void Calc_DualStack_OneSubnetPerFamily()
    {
        var plan = NodeIpamCalc.Calc(Dual, [WithCidrs("n1", "10.244.0.0/24", "fd00:10:244::/64"), WithCidrs("n2")]);
        Assert.Equal("n2=10.244.1.0/24,fd00:10:244:1::/64", Summary(plan));
    }

    [Fact]
    public void Calc_Exhausted_ReportsNodeAndAssignsNothingPartial()
    {
        var config = new NodeIpamConfig([IPNetwork.Parse("10.244.0.0/23"), IPNetwork.Parse("fd00:10:244::/63")], 24, 64);
        var nodes = new[] { WithCidrs("a", "10.244.0.0/24", "fd00:10:244::/64"), WithCidrs("b", "10.244.1.0/24"), WithCidrs("c") };

        Assert.Equal("c=exhausted", Summary(NodeIpamCalc.Calc(config, nodes)));
    }

    [Fact]
    public void Calc_DeletedNodeFreesItsCidr_AndPendingAssignmentsAreNotReused()
    {
        var pending = new[] { new NodeCidrAssignment("n2", ["10.244.1.0/24"]) };
        var plan = NodeIpamCalc.Calc(V4, [WithCidrs("n3"), WithCidrs("n2")], pending);
        Assert.Equal("n3=10.244.0.0/24", Summary(plan));
    }

    [Fact]
    public void Calc_ConfigurableMask()
    {
        var config = new NodeIpamConfig([IPNetwork.Parse("10.244.0.0/16")], Ipv4MaskSize: 26);
        Assert.Equal("a=10.244.0.0/26 b=10.244.0.64/26", Summary(NodeIpamCalc.Calc(config, [WithCidrs("a"), WithCidrs("b")])));
    }

    [Theory]
    [InlineData("10.244.0.0/16", "10.244.0.0/16")]
    [InlineData("10.244.0.0/16, fd00:10:244::/56", "10.244.0.0/16 fd00:10:244::/56")]
    [InlineData("10.244.0.0/16,10.245.0.0/16", null)]
    [InlineData("10.244.0.0", null)]
    [InlineData("", null)]
    public void Parse_OneCidrOrOnePerFamily(string text, string? expected)
    {
        if (expected is null)
        {
            Assert.Throws<FormatException>(() => NodeIpamConfig.Parse(text));
            return;
        }
        Assert.Equal(expected, string.Join(" ", NodeIpamConfig.Parse(text).ClusterCidrs));
    }

    [Fact]
    public void Calc_MaskShorterThanCluster_Throws() =>
        Assert.Throws<ArgumentException>(() => NodeIpamCalc.Calc(new NodeIpamConfig([IPNetwork.Parse("10.244.0.0/25")]), []));
}
