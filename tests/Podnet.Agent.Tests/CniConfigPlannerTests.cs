using System.Net;
using System.Text.Json.Nodes;
using Podnet.Agent.Runtime;

namespace Podnet.Agent.Tests;

public sealed class CniConfigPlannerTests
{
    [Fact]
    public void Build_DualStackNode_OneRangeSetPerFamily_BridgeKeysOfTheReferencePlugin()
    {
        var json = JsonNode.Parse(CniConfigPlanner.Build([IPNetwork.Parse("10.244.1.0/24"), IPNetwork.Parse("fd00:10:244:1::/64")], 1450, "/var/lib/podnet/labs/x/nodes/n1/ipam"))!;
        Assert.Equal("1.1.0", (string)json["cniVersion"]!);
        Assert.Equal("podnet", (string)json["name"]!);
        var plugin = json["plugins"]![0]!;
        Assert.Equal("podnet-cni", (string)plugin["type"]!);
        Assert.Equal("pn0", (string)plugin["bridge"]!);
        Assert.True((bool)plugin["isDefaultGateway"]!);
        Assert.True((bool)plugin["hairpinMode"]!);
        Assert.False((bool)plugin["ipMasq"]!);
        Assert.Equal(1450, (int)plugin["mtu"]!);
        Assert.Equal("podnet-ipam", (string)plugin["ipam"]!["type"]!);
        Assert.Equal("/var/lib/podnet/labs/x/nodes/n1/ipam", (string)plugin["ipam"]!["dataDir"]!);
        Assert.Equal(["10.244.1.0/24", "fd00:10:244:1::/64"], plugin["ipam"]!["ranges"]!.AsArray().Select(r => (string)r![0]!["subnet"]!));
    }

    [Fact]
    public void Build_WithoutPodCidr_SaysSo() =>
        Assert.Contains("spec.podCIDRs", Assert.Throws<ArgumentException>(() => CniConfigPlanner.Build([], 0, "/tmp/x")).Message);
}
