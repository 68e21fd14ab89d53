using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using static Podnet.Proxy.Tests.Cluster;

namespace Podnet.Proxy.Tests;

/// <summary>What Services do, traced through the planned ruleset.</summary>
public sealed class ProxyBehaviourTests
{
    private const string Pod = "10.244.3.7";

    [Fact]
    public void ClusterIP_BalancesOverReadyEndpoints_AndKeepsThePodsSource()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10", Tcp(80)), Slice("web", [P(8080)], Ep("10.244.1.5"), Ep("10.244.2.5"), Ep("10.244.2.6", ready: false)));
        c.Sync();
        Assert.Equal(["10.244.1.5:8080", "10.244.2.5:8080"], c.Reach(Pod, "10.96.0.10", 80));
        Assert.All(c.Tracer().Trace(NftPacket.Tcp(Pod, "10.96.0.10", 80)), r => Assert.Equal(Pod, r.Packet.Source.ToString()));
    }

    [Fact]
    public void EveryEndpoint_GetsExactlyOneSlot()
    {
        var endpoints = Enumerable.Range(1, 7).Select(i => Ep($"10.244.1.{i}")).ToArray();
        var c = new Cluster().Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], endpoints));
        c.Sync();
        var results = c.Tracer().Trace(NftPacket.Tcp(Pod, "10.96.0.10", 80));
        Assert.Equal(7, results.Count);
        Assert.Equal(7, results.Select(r => r.Endpoint).Distinct().Count());
    }

    [Fact]
    public void NamedTargetPort_ResolvesPerEndpoint_MultiPort_TcpAndUdpOnOnePort()
    {
        var c = new Cluster().Set(
            Svc("dns", "10.96.0.10", Udp(53, "dns"), Tcp(53, "dns-tcp"), Tcp(9153, "metrics")),
            Slice("dns", [P(5353, "dns", "UDP"), P(5353, "dns-tcp"), P(9153, "metrics")], Ep("10.244.1.5")),
            Slice("dns", [P(1053, "dns", "UDP"), P(1053, "dns-tcp"), P(9153, "metrics")], Ep("10.244.2.5")));
        c.Sync();
        Assert.Equal(["10.244.1.5:5353", "10.244.2.5:1053"], c.Reach(Pod, "10.96.0.10", 53, "udp"));
        Assert.Equal(["10.244.1.5:5353", "10.244.2.5:1053"], c.Reach(Pod, "10.96.0.10", 53));
        Assert.Equal(["10.244.1.5:9153", "10.244.2.5:9153"], c.Reach(Pod, "10.96.0.10", 9153));
        Assert.Equal(["reject"], c.Reach(Pod, "10.96.0.10", 9153, "udp"));
    }

    [Fact]
    public void Sctp_IsPlannedLikeTcpAndUdp_AndDoesNotAnswerTcp()
    {
        var c = new Cluster().Set(Svc("assoc", "10.96.0.40", new Podnet.Core.Cluster.ServicePortInfo("sctp", "SCTP", 9999)), Slice("assoc", [P(9999, "sctp", "SCTP")], Ep("10.244.1.5")));
        c.Sync();
        Assert.Contains("10.96.0.40 . sctp . 9999 : goto balance-1", c.Nft.Dump());
        Assert.Equal(["10.244.1.5:9999"], c.Reach(Pod, "10.96.0.40", 9999, "sctp"));
        Assert.Equal(["reject"], c.Reach(Pod, "10.96.0.40", 9999, "tcp"));
    }

    [Fact]
    public void NoEndpoints_Rejects_UndefinedPort_Rejects_UnallocatedAddress_Drops()
    {
        var c = new Cluster().Set(Svc("empty", "10.96.0.20"), Slice("empty", [P(80)], Ep("10.244.1.9", ready: false))).Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        Assert.Equal(["reject"], c.Reach(Pod, "10.96.0.20", 80));
        Assert.Equal(["reject"], c.Reach(Pod, "10.96.0.10", 81));
        Assert.Equal(["drop"], c.Reach(Pod, "10.96.7.7", 80));
        // From the node itself too (output hook).
        Assert.Equal(["reject"], c.Reach(NodeIP, "10.96.0.20", 80, origin: NftOrigin.Local));
        Assert.Equal(["drop"], c.Reach(NodeIP, "10.96.7.7", 80, origin: NftOrigin.Local));
    }

    [Fact]
    public void WithoutReadyEndpoints_ServingTerminatingOnesServe()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5", ready: false, serving: true, terminating: true), Ep("10.244.1.6", ready: false, serving: false, terminating: true)));
        c.Sync();
        Assert.Equal(["10.244.1.5:80"], c.Reach(Pod, "10.96.0.10", 80));
        c.Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5", ready: false, serving: true, terminating: true), Ep("10.244.2.9")));
        c.Sync("web");
        Assert.Equal(["10.244.2.9:80"], c.Reach(Pod, "10.96.0.10", 80));
    }

    [Fact]
    public void NodePort_OnTheNodesPrimaryAddress_FromOutside_IsMasqueraded()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10", Tcp(80, nodePort: 30080)) with { Type = "NodePort" }, Slice("web", [P(8080)], Ep("10.244.1.5"), Ep("10.244.2.5")));
        c.Sync();
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach("172.18.0.1", NodeIP, 30080));
        Assert.Equal(["10.244.1.5:8080 masq", "10.244.2.5:8080 masq"], c.Reach(Pod, NodeIP, 30080));
        Assert.Equal(["127.0.0.1:30080"], c.Reach("127.0.0.1", "127.0.0.1", 30080, origin: NftOrigin.Local));
        Assert.Equal(["10.244.1.5:8080", "10.244.2.5:8080"], c.Reach(Pod, "10.96.0.10", 80));
        Assert.Equal(["172.18.0.12:30080"], c.Reach("172.18.0.1", "172.18.0.12", 30080));
    }

    [Fact]
    public void NodePort_WithoutEndpoints_Rejects()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10", Tcp(80, nodePort: 30080)) with { Type = "NodePort" });
        c.Sync();
        Assert.Equal(["reject"], c.Reach("172.18.0.1", NodeIP, 30080));
    }

    [Fact]
    public void FromTheNode_ClusterIPTraffic_IsMasqueraded()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        Assert.Equal(["10.244.1.5:80 masq"], c.Reach(NodeIP, "10.96.0.10", 80, origin: NftOrigin.Local));
    }

    [Fact]
    public void Hairpin_APodReachingItselfIsMasqueraded()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        Assert.Equal(["10.244.1.5:80 masq"], c.Reach("10.244.1.5", "10.96.0.10", 80));
    }

    [Fact]
    public void ClientIPAffinity_PinsAClient_UntilSwitchedOff()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10", Tcp(80, nodePort: 30080)) with { Type = "NodePort", AffinityTimeout = TimeSpan.FromSeconds(60) },
            Slice("web", [P(80)], Ep("10.244.1.5"), Ep("10.244.2.5")));
        c.Sync();
        var tracer = c.Tracer();
        var first = tracer.TraceOne(NftPacket.Tcp(Pod, "10.96.0.10", 80), NftOrigin.Incoming, 1);
        tracer.Commit(first);
        Assert.Equal([first.Endpoint], c.Reach(Pod, "10.96.0.10", 80));
        Assert.Equal([first.Endpoint + " masq"], c.Reach(Pod, NodeIP, 30080));
        Assert.Equal(2, c.Reach("10.244.3.8", "10.96.0.10", 80).Count);
        Assert.Contains("timeout 60s", c.Nft.Dump());
        c.Set(c.Services["default/web"] with { AffinityTimeout = null }, c.Slices["default/web"].ToArray());
        c.Sync("web");
        Assert.Equal(2, c.Reach(Pod, "10.96.0.10", 80).Count);
        Assert.DoesNotContain("aff-", c.Nft.Dump());
        Assert.Equal(c.FullDump(), c.Nft.Dump());
    }

    [Fact]
    public void ClientIPAffinity_InIPv6_PinsAClientToo()
    {
        var c = new Cluster(AddressFamily.InterNetworkV6).Set(Svc("web", "fd00:10:96::a") with { AffinityTimeout = TimeSpan.FromSeconds(60) },
            Slice("web", [P(80)], Ep("fd00:10:244:1::5"), Ep("fd00:10:244:2::5"), Ep("fd00:10:244:3::5")));
        c.Sync();
        var client = "fd00:10:244:9::7";
        Assert.Equal(3, c.Reach(client, "fd00:10:96::a", 80).Count);
        var tracer = c.Tracer();
        var first = tracer.TraceOne(new NftPacket(System.Net.IPAddress.Parse(client), System.Net.IPAddress.Parse("fd00:10:96::a")), NftOrigin.Incoming, 1, 1);
        tracer.Commit(first);
        Assert.Equal(["[fd00:10:244:3::5]:80"], c.Reach(client, "fd00:10:96::a", 80));
    }

    [Fact]
    public void HeadlessExternalNameAndOtherProxies_GetNoRules()
    {
        var c = new Cluster()
            .Set(Svc("headless", "10.96.0.30") with { ClusterIPs = [], Headless = true }, Slice("headless", [P(80)], Ep("10.244.1.5")))
            .Set(Svc("ext", "10.96.0.31") with { Type = "ExternalName", ClusterIPs = [], ExternalName = "example.org" })
            .Set(Svc("other", "10.96.0.32") with { ProxyName = "someone-else" }, Slice("other", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        Assert.DoesNotContain("10.96.0.3", c.Nft.Dump());
        Assert.Equal(["drop"], c.Reach(Pod, "10.96.0.32", 80));
    }

    [Fact]
    public void InternalTrafficPolicyLocal_OnlyThisNodesEndpoints_ElseDrop()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10") with { InternalTrafficPolicy = TrafficPolicy.Local }, Slice("web", [P(80)], Ep("10.244.1.5", node: "n1"), Ep("10.244.2.5", node: "n2")));
        c.Sync();
        Assert.Equal(["10.244.1.5:80"], c.Reach(Pod, "10.96.0.10", 80));
        c.Set(c.Services["default/web"], Slice("web", [P(80)], Ep("10.244.2.5", node: "n2")));
        c.Sync("web");
        Assert.Equal(["drop"], c.Reach(Pod, "10.96.0.10", 80));
    }

    [Fact]
    public void DualStack_EachFamilysTableServesItsClusterIP()
    {
        var svc = Svc("web", "10.96.0.10,fd00:10:96::a");
        var v4 = new Cluster().Set(svc, Slice("web", [P(80)], Ep("10.244.1.5")), Slice("web", [P(80)], Ep("fd00:10:244:1::5")));
        var v6 = new Cluster(AddressFamily.InterNetworkV6).Set(svc, v4.Slices["default/web"].ToArray());
        v4.Sync();
        v6.Sync();
        Assert.Equal(["10.244.1.5:80"], v4.Reach(Pod, "10.96.0.10", 80));
        Assert.Equal(["[fd00:10:244:1::5]:80"], v6.Reach("fd00:10:244:3::7", "fd00:10:96::a", 80));
        Assert.Equal(["drop"], v6.Reach("fd00:10:244:3::7", "fd00:10:96::99", 80));
        Assert.Contains("table ip6 podnet-proxy", v6.Nft.Dump());
    }

    [Fact]
    public void UdpEndpointChanges_AreReportedForConntrackCleanup()
    {
        var c = new Cluster().Set(Svc("dns", "10.96.0.10", Udp(53, "dns", nodePort: 30053)) with { Type = "NodePort" }, Slice("dns", [P(53, "dns", "UDP")], Ep("10.244.1.5"), Ep("10.244.2.5")));
        Assert.Equal(2, c.Sync().StaleUdp.Count);
        Assert.Empty(c.Sync("dns").StaleUdp);
        c.Set(c.Services["default/dns"], Slice("dns", [P(53, "dns", "UDP")], Ep("10.244.2.5")));
        var stale = c.Sync("dns").StaleUdp;
        Assert.Equal(2, stale.Count);
        Assert.All(stale, s => Assert.Equal(["10.244.2.5"], s.Serving.Select(a => a.ToString())));
        Assert.Contains(stale, s => s.Address is null && s.Port == 30053);
    }
}
