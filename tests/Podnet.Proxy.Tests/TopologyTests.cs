using Podnet.Core.Cluster;
using static Podnet.Proxy.Tests.Cluster;

namespace Podnet.Proxy.Tests;

/// <summary>trafficDistribution through the EndpointSlices' hints, with kube-proxy's fallbacks (topologyModeFromHints).</summary>
public sealed class TopologyTests
{
    private const string Pod = "10.244.3.7";

    private static EndpointInfo Hinted(string address, string node, string? zone, bool forNode = false) =>
        Ep(address, node: node) with { Zone = zone, ZoneHints = zone is null ? [] : [zone], NodeHints = forNode ? [node] : [] };

    private static Cluster Zoned(string? zone, params EndpointInfo[] endpoints)
    {
        var c = new Cluster();
        c.Syncer.SetNode(c.Syncer.Node with { Zone = zone });
        c.Set(Svc("web", "10.96.0.10") with { TrafficDistribution = "PreferClose" }, Slice("web", [P(80)], endpoints));
        c.Sync();
        return c;
    }

    [Fact]
    public void PreferClose_KeepsTrafficInTheNodesZone()
    {
        var c = Zoned("a", Hinted("10.244.1.5", "n1", "a"), Hinted("10.244.2.5", "n2", "b"), Hinted("10.244.4.5", "n4", "a"));
        Assert.Equal(["10.244.1.5:80", "10.244.4.5:80"], c.Reach(Pod, "10.96.0.10", 80));
    }

    [Fact]
    public void PreferClose_NoEndpointInTheZone_OrAnEndpointWithoutHints_OrANodeWithoutZone_UsesEveryEndpoint()
    {
        Assert.Equal(2, Zoned("c", Hinted("10.244.1.5", "n1", "a"), Hinted("10.244.2.5", "n2", "b")).Reach(Pod, "10.96.0.10", 80).Count);
        Assert.Equal(2, Zoned("a", Hinted("10.244.1.5", "n1", "a"), Hinted("10.244.2.5", "n2", null)).Reach(Pod, "10.96.0.10", 80).Count);
        Assert.Equal(2, Zoned(null, Hinted("10.244.1.5", "n1", "a"), Hinted("10.244.2.5", "n2", "b")).Reach(Pod, "10.96.0.10", 80).Count);
    }

    [Fact]
    public void PreferSameNode_KeepsTrafficOnTheNode_ElseTheZone_ElseEverywhere()
    {
        Assert.Equal(["10.244.1.5:80"], Zoned("a", Hinted("10.244.1.5", "n1", "a", forNode: true), Hinted("10.244.2.5", "n2", "a", forNode: true)).Reach(Pod, "10.96.0.10", 80));
        Assert.Equal(["10.244.2.5:80", "10.244.4.5:80"], Zoned("a", Hinted("10.244.2.5", "n2", "a", forNode: true), Hinted("10.244.4.5", "n4", "a", forNode: true), Hinted("10.244.5.5", "n5", "b", forNode: true)).Reach(Pod, "10.96.0.10", 80));
        Assert.Equal(2, Zoned("c", Hinted("10.244.2.5", "n2", "a", forNode: true), Hinted("10.244.5.5", "n5", "b", forNode: true)).Reach(Pod, "10.96.0.10", 80).Count);
    }

    [Fact]
    public void TheLocalPolicies_IgnoreHints()
    {
        var c = new Cluster();
        c.Syncer.SetNode(c.Syncer.Node with { Zone = "b" });
        c.Set(Svc("web", "10.96.0.10") with { InternalTrafficPolicy = TrafficPolicy.Local }, Slice("web", [P(80)], Hinted("10.244.1.5", "n1", "a"), Hinted("10.244.2.5", "n2", "b")));
        c.Sync();
        Assert.Equal(["10.244.1.5:80"], c.Reach(Pod, "10.96.0.10", 80));
    }
}
