using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Proxy;
using static Podnet.Proxy.Tests.Cluster;

namespace Podnet.Proxy.Tests;

/// <summary>LoadBalancer addresses, externalIPs and the external traffic policy, traced through the planned ruleset.</summary>
public sealed class ExternalTrafficTests
{
    private const string Pod = "10.244.3.7";
    private const string Outside = "172.18.0.1";
    private const string Lb = "172.18.0.200";

    private static ServiceInfo LbSvc(TrafficPolicy policy = TrafficPolicy.Cluster) =>
        Svc("web", "10.96.0.10", Tcp(80, nodePort: 30080)) with { Type = "LoadBalancer", LoadBalancerIPs = [IPAddress.Parse(Lb)], ExternalTrafficPolicy = policy };

    private static EndpointSliceInfo Two() => Slice("web", [P(8080)], Ep("10.244.1.5", node: "n1"), Ep("10.244.2.5", node: "n2"));

    [Fact]
    public void LoadBalancerAddress_PolicyCluster_BalancesOverEveryEndpoint_Masqueraded()
    {
        var c = new Cluster().Set(LbSvc(), Two());
        c.Sync();
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach(Outside, NodeIP, 30080));
        Assert.Contains($"{Lb} . tcp . 80 : goto external-balance-2", c.Nft.Dump());
    }

    [Fact]
    public void ExternalIP_IsBalancedLikeALoadBalancerAddress_OnAnyServiceType()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10") with { ExternalIPs = [IPAddress.Parse("172.18.0.150")] }, Two());
        c.Sync();
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach(Outside, "172.18.0.150", 80));
        Assert.Equal(["10.244.1.5:8080", "10.244.2.5:8080"], c.Reach(Pod, "10.96.0.10", 80));
    }

    [Fact]
    public void LoadBalancerIngress_OfAServiceNoLongerLoadBalancer_IsNotServed()
    {
        var c = new Cluster().Set(LbSvc() with { Type = "NodePort" }, Two());
        c.Sync();
        Assert.DoesNotContain(Lb, c.Nft.Dump());
    }

    [Fact]
    public void NoEndpoints_ExternalAddressAndNodePortReject()
    {
        var c = new Cluster().Set(LbSvc() with { ExternalIPs = [IPAddress.Parse("172.18.0.150")] });
        c.Sync();
        Assert.Equal(["reject"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["reject"], c.Reach(Outside, "172.18.0.150", 80));
        Assert.Equal(["reject"], c.Reach(Outside, NodeIP, 30080));
    }

    [Fact]
    public void SourceRanges_DropOthersOnTheLoadBalancerAddress_ButNotOnNodePortsOrExternalIPs()
    {
        var c = new Cluster().Set(LbSvc() with { LoadBalancerSourceRanges = [IPNetwork.Parse("172.18.0.0/30"), IPNetwork.Parse("fd00::/64")], ExternalIPs = [IPAddress.Parse("172.18.0.150")] }, Two());
        c.Sync();
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["drop"], c.Reach("172.18.0.9", Lb, 80));
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach("172.18.0.9", NodeIP, 30080));
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach("172.18.0.9", "172.18.0.150", 80));
        Assert.DoesNotContain("fd00::/64", c.Nft.Dump());
    }

    [Fact]
    public void PolicyLocal_OutsideReachesOnlyThisNodesEndpoints_WithItsSourceKept()
    {
        var c = new Cluster().Set(LbSvc(TrafficPolicy.Local), Two());
        c.Sync();
        Assert.Equal(["10.244.1.5:8080"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["10.244.1.5:8080"], c.Reach(Outside, NodeIP, 30080));
        Assert.All(c.Tracer().Trace(NftPacket.Tcp(Outside, Lb, 80)), r => Assert.Equal(Outside, r.Packet.Source.ToString()));
    }

    [Fact]
    public void PolicyLocal_WithoutALocalEndpoint_DropsOutsideTraffic_ButPodsAndTheNodeAreShortCircuited()
    {
        var c = new Cluster().Set(LbSvc(TrafficPolicy.Local), Slice("web", [P(8080)], Ep("10.244.2.5", node: "n2"), Ep("10.244.3.5", node: "n3")));
        c.Sync();
        Assert.Equal(["drop"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["drop"], c.Reach(Outside, NodeIP, 30080));
        Assert.Equal(["10.244.2.5:8080", "10.244.3.5:8080"], c.Reach(Pod, Lb, 80));
        Assert.Equal(["10.244.2.5:8080 masq", "10.244.3.5:8080 masq"], c.Reach(NodeIP, Lb, 80, origin: NftOrigin.Local));
    }

    [Fact]
    public void PolicyLocal_WithSourceRanges_ChecksTheRangeFirst()
    {
        var c = new Cluster().Set(LbSvc(TrafficPolicy.Local) with { LoadBalancerSourceRanges = [IPNetwork.Parse("172.18.0.1/32")] }, Two());
        c.Sync();
        Assert.Equal(["10.244.1.5:8080"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["drop"], c.Reach("172.18.0.5", Lb, 80));
    }

    [Fact]
    public void InternalPolicyLocal_DoesNotNarrowTheExternalAddresses()
    {
        var c = new Cluster().Set(LbSvc() with { InternalTrafficPolicy = TrafficPolicy.Local }, Slice("web", [P(8080)], Ep("10.244.2.5", node: "n2")));
        c.Sync();
        Assert.Equal(["drop"], c.Reach(Pod, "10.96.0.10", 80));
        Assert.Equal(["10.244.2.5:8080 masq"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["10.244.2.5:8080 masq"], c.Reach(Outside, NodeIP, 30080));
    }

    [Fact]
    public void Affinity_OnTheLoadBalancerAddress_PinsAClient()
    {
        var c = new Cluster().Set(LbSvc() with { AffinityTimeout = TimeSpan.FromSeconds(60) }, Two());
        c.Sync();
        var tracer = c.Tracer();
        var first = tracer.TraceOne(NftPacket.Tcp(Outside, Lb, 80), NftOrigin.Incoming, 1);
        tracer.Commit(first);
        Assert.Equal([first.Endpoint + " masq"], c.Reach(Outside, Lb, 80));
    }

    [Fact]
    public void Affinity_WithPolicyLocal_PinsAnOutsideClientToOneLocalEndpoint_WithItsSourceKept()
    {
        var slice = Slice("web", [P(8080)], Ep("10.244.1.5", node: "n1"), Ep("10.244.1.6", node: "n1"), Ep("10.244.2.5", node: "n2"));
        var c = new Cluster().Set(LbSvc(TrafficPolicy.Local) with { AffinityTimeout = TimeSpan.FromSeconds(60) }, slice);
        c.Sync();
        Assert.Equal(["10.244.1.5:8080", "10.244.1.6:8080"], c.Reach(Outside, Lb, 80));
        var tracer = c.Tracer();
        var first = tracer.TraceOne(NftPacket.Tcp(Outside, Lb, 80), NftOrigin.Incoming, 1);
        tracer.Commit(first);
        Assert.Equal([first.Endpoint], c.Reach(Outside, Lb, 80));
        Assert.Equal([first.Endpoint], c.Reach(Outside, NodeIP, 30080));
        // Another client is still balanced over this node's endpoints only.
        Assert.Equal(["10.244.1.5:8080", "10.244.1.6:8080"], c.Reach("172.18.0.9", Lb, 80));
    }

    [Fact]
    public void Affinity_WithInternalPolicyLocal_StillPinsOutsideClients_OverEveryEndpoint()
    {
        var c = new Cluster().Set(LbSvc() with { InternalTrafficPolicy = TrafficPolicy.Local, AffinityTimeout = TimeSpan.FromSeconds(60) }, Two());
        c.Sync();
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach(Outside, Lb, 80));
        var tracer = c.Tracer();
        var first = tracer.TraceOne(NftPacket.Tcp(Outside, Lb, 80), NftOrigin.Incoming, 1);
        tracer.Commit(first);
        Assert.Equal([first.Endpoint + " masq"], c.Reach(Outside, Lb, 80));
        Assert.Equal(["10.244.1.5:8080"], c.Reach(Pod, "10.96.0.10", 80));
    }

    [Fact]
    public void DualStack_EachFamilyServesItsIngressAddress()
    {
        var svc = LbSvc(TrafficPolicy.Local) with { ClusterIPs = [IPAddress.Parse("10.96.0.10"), IPAddress.Parse("fd00:10:96::a")], LoadBalancerIPs = [IPAddress.Parse(Lb), IPAddress.Parse("fd00:172:18::200")] };
        var v4 = new Cluster().Set(svc, Two(), Slice("web", [P(8080)], Ep("fd00:10:244:1::5", node: "n1"), Ep("fd00:10:244:2::5", node: "n2")));
        var v6 = new Cluster(AddressFamily.InterNetworkV6).Set(svc, v4.Slices["default/web"].ToArray());
        v4.Sync();
        v6.Sync();
        Assert.Equal(["10.244.1.5:8080"], v4.Reach(Outside, Lb, 80));
        Assert.Equal(["[fd00:10:244:1::5]:8080"], v6.Reach("fd00:172:18::1", "fd00:172:18::200", 80));
        Assert.Equal(["[fd00:10:244:1::5]:8080", "[fd00:10:244:2::5]:8080"], v6.Reach("fd00:10:244:3::7", "fd00:172:18::200", 80));
    }

    [Fact]
    public void ChurnOverExternalShapes_PartialSyncsEqualAFullOne()
    {
        var c = new Cluster().Set(LbSvc(), Two());
        c.Sync();
        foreach (var shape in new[]
        {
            LbSvc(TrafficPolicy.Local),
            LbSvc() with { LoadBalancerSourceRanges = [IPNetwork.Parse("172.18.0.0/24")] },
            LbSvc() with { Type = "ClusterIP" },
            LbSvc() with { ExternalIPs = [IPAddress.Parse("172.18.0.150")], AffinityTimeout = TimeSpan.FromSeconds(5) },
            LbSvc(TrafficPolicy.Local) with { AffinityTimeout = TimeSpan.FromSeconds(5), InternalTrafficPolicy = TrafficPolicy.Local },
            LbSvc(TrafficPolicy.Local) with { AffinityTimeout = TimeSpan.FromSeconds(5) },
            LbSvc(),
        })
        {
            c.Set(shape, Two());
            c.Sync("web");
            Assert.Equal(c.FullDump(), c.Nft.Dump());
        }
        c.Remove("web");
        c.Sync("web");
        Assert.Equal(c.FullDump(), c.Nft.Dump());
    }

    [Fact]
    public void LocalReady_CountsThisNodesReadyEndpointsOnce()
    {
        var svc = LbSvc(TrafficPolicy.Local);
        var slices = new[] { Slice("web", [P(8080)], Ep("10.244.1.5", node: "n1"), Ep("10.244.1.6", node: "n1", ready: false), Ep("10.244.2.5", node: "n2")) };
        Assert.Equal(1, EndpointChoice.LocalReady(svc, slices, "n1"));
        Assert.Equal(0, EndpointChoice.LocalReady(svc, slices, "n3"));
    }
}
