using Podnet.Core.Nft;

namespace Podnet.Core.Tests.Nft;

/// <summary>The tracer over small rulesets of the shapes Podnet's planners write.</summary>
public sealed class NftTracerTests
{
    private static readonly NftTable T = new(NftFamily.Ip, "proxy");
    private const string Node = "172.18.0.11";
    private static readonly System.Net.IPAddress[] Local = [System.Net.IPAddress.Parse(Node)];

    /// <summary>A ClusterIP with two endpoints and affinity, a NodePort, a rejecting Service, masquerade by mark.</summary>
    private static NftState Proxy()
    {
        var state = new NftState();
        var tx = new NftTransaction().Add(T)
            .Add(T, new NftChain("nat-prerouting", new NftHookSpec(NftChainType.Nat, NftHook.Prerouting, -100)))
            .Add(T, new NftChain("nat-output", new NftHookSpec(NftChainType.Nat, NftHook.Output, -100)))
            .Add(T, new NftChain("nat-postrouting", new NftHookSpec(NftChainType.Nat, NftHook.Postrouting, 100)))
            .Add(T, new NftChain("filter-forward", new NftHookSpec(NftChainType.Filter, NftHook.Forward, -110)))
            .Add(T, new NftChain("services")).Add(T, new NftChain("svc-web")).Add(T, new NftChain("ep-1")).Add(T, new NftChain("ep-2"))
            .Add(T, new NftChain("reject-chain")).Add(T, new NftChain("mark-for-masquerade")).Add(T, new NftChain("masquerading"))
            .Add(T, new NftSet("service-ips", "ipv4_addr . inet_proto . inet_service", Value: "verdict"))
            .Add(T, new NftSet("service-nodeports", "inet_proto . inet_service", Value: "verdict"))
            .Add(T, new NftSet("no-endpoint-services", "ipv4_addr . inet_proto . inet_service", Value: "verdict"))
            .Add(T, new NftSet("cluster-ips", "ipv4_addr"))
            .Add(T, new NftSet("service-cidrs", "ipv4_addr", Flags: NftSetFlags.Interval))
            .Add(T, new NftSet("affinity-1", "ipv4_addr", Flags: NftSetFlags.Dynamic | NftSetFlags.Timeout, Timeout: TimeSpan.FromHours(3)))
            .Add(T, new NftSet("affinity-2", "ipv4_addr", Flags: NftSetFlags.Dynamic | NftSetFlags.Timeout, Timeout: TimeSpan.FromHours(3)))
            .AddRule(T, "nat-prerouting", "jump services")
            .AddRule(T, "nat-output", "jump services")
            .AddRule(T, "nat-postrouting", "jump masquerading")
            .AddRule(T, "filter-forward", "ct state new ip daddr . meta l4proto . th dport vmap @no-endpoint-services")
            .AddRule(T, "filter-forward", "ct state new ip daddr @cluster-ips reject")
            .AddRule(T, "filter-forward", "ct state new ip daddr @service-cidrs drop")
            .AddRule(T, "services", "ip daddr . meta l4proto . th dport vmap @service-ips")
            .AddRule(T, "services", "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports")
            .AddRule(T, "svc-web", "ip saddr @affinity-1 goto ep-1")
            .AddRule(T, "svc-web", "ip saddr @affinity-2 goto ep-2")
            .AddRule(T, "svc-web", "numgen random mod 2 vmap { 0 : goto ep-1, 1 : goto ep-2 }")
            .AddRule(T, "ep-1", "ip saddr 10.244.1.5 jump mark-for-masquerade")
            .AddRule(T, "ep-1", "update @affinity-1 { ip saddr }")
            .AddRule(T, "ep-1", "meta l4proto tcp dnat to 10.244.1.5:8080")
            .AddRule(T, "ep-2", "ip saddr 10.244.2.5 jump mark-for-masquerade")
            .AddRule(T, "ep-2", "update @affinity-2 { ip saddr }")
            .AddRule(T, "ep-2", "meta l4proto tcp dnat to 10.244.2.5:8080")
            .AddRule(T, "reject-chain", "reject")
            .AddRule(T, "mark-for-masquerade", "meta mark set meta mark | 0x00004000")
            .AddRule(T, "masquerading", "meta mark & 0x00004000 == 0x00000000 return")
            .AddRule(T, "masquerading", "meta mark set meta mark ^ 0x00004000")
            .AddRule(T, "masquerading", "masquerade fully-random")
            .AddElement(T, "service-ips", "10.96.0.10 . tcp . 80", "goto svc-web")
            .AddElement(T, "service-nodeports", "tcp . 30080", "goto svc-web")
            .AddElement(T, "no-endpoint-services", "10.96.0.20 . tcp . 80", "goto reject-chain")
            .AddElement(T, "cluster-ips", "10.96.0.10")
            .AddElement(T, "cluster-ips", "10.96.0.20")
            .AddElement(T, "service-cidrs", "10.96.0.0/16");
        state.Apply(tx);
        return state;
    }

    [Fact]
    public void ClusterIP_SpreadsOverBothEndpoints_KeepingThePodsSource()
    {
        var results = new NftTracer(Proxy(), Local).Trace(NftPacket.Tcp("10.244.3.7", "10.96.0.10", 80));
        Assert.Equal(["accept 10.244.1.5:8080", "accept 10.244.2.5:8080"], results.Select(r => r.ToString()).Order());
        Assert.All(results, r => Assert.Equal("10.244.3.7", r.Packet.Source.ToString()));
    }

    [Fact]
    public void Hairpin_IsMasqueraded()
    {
        var result = new NftTracer(Proxy(), Local).TraceOne(NftPacket.Tcp("10.244.1.5", "10.96.0.10", 80), NftOrigin.Incoming, 0);
        Assert.Equal("accept 10.244.1.5:8080 masquerade", result.ToString());
        Assert.Equal(0u, result.Packet.Mark);
    }

    [Fact]
    public void NodePort_OnTheNodesAddress_Only()
    {
        var tracer = new NftTracer(Proxy(), Local);
        Assert.Equal(2, tracer.Trace(NftPacket.Tcp("172.18.0.1", Node, 30080)).Select(r => r.Endpoint).Distinct().Count());
        var elsewhere = Assert.Single(tracer.Trace(NftPacket.Tcp("172.18.0.1", "172.18.0.12", 30080)));
        Assert.Equal("accept 172.18.0.12:30080", elsewhere.ToString());
    }

    [Fact]
    public void NoEndpoints_Rejects_UnknownPort_Rejects_UnallocatedAddress_Drops()
    {
        var tracer = new NftTracer(Proxy(), Local);
        var none = Assert.Single(tracer.Trace(NftPacket.Tcp("10.244.3.7", "10.96.0.20", 80)));
        Assert.Equal(NftVerdictKind.Reject, none.Verdict);
        Assert.Equal("reject-chain", none.Decided!.Chain);
        var port = Assert.Single(tracer.Trace(NftPacket.Tcp("10.244.3.7", "10.96.0.10", 81)));
        Assert.Equal(NftVerdictKind.Reject, port.Verdict);
        Assert.Equal("ct state new ip daddr @cluster-ips reject", port.Decided!.Text);
        var unallocated = Assert.Single(tracer.Trace(NftPacket.Tcp("10.244.3.7", "10.96.5.5", 80)));
        Assert.Equal(NftVerdictKind.Drop, unallocated.Verdict);
    }

    [Fact]
    public void Established_SkipsNat_AndTheFilterChecks()
    {
        var tracer = new NftTracer(Proxy(), Local);
        var result = Assert.Single(tracer.Trace(NftPacket.Tcp("10.244.3.7", "10.96.0.20", 80) with { CtState = NftCtState.Established }));
        Assert.Equal(NftVerdictKind.Accept, result.Verdict);
        Assert.Empty(result.Matched);
    }

    [Fact]
    public void Affinity_ACommittedUpdate_PinsTheClient()
    {
        var state = Proxy();
        var tracer = new NftTracer(state, Local);
        var first = tracer.TraceOne(NftPacket.Tcp("10.244.3.7", "10.96.0.10", 80), NftOrigin.Incoming, 1);
        Assert.Equal("10.244.2.5:8080", first.Endpoint);
        tracer.Commit(first);
        var again = tracer.Trace(NftPacket.Tcp("10.244.3.7", "10.96.0.10", 80) with { SourcePort = 40001 });
        Assert.Equal(["10.244.2.5:8080"], again.Select(r => r.Endpoint).Distinct());
        var other = tracer.Trace(NftPacket.Tcp("10.244.3.8", "10.96.0.10", 80));
        Assert.Equal(2, other.Count);
    }

    [Fact]
    public void FromTheNode_OutputHook_Dnats()
    {
        var results = new NftTracer(Proxy(), Local).Trace(NftPacket.Tcp(Node, "10.96.0.10", 80), NftOrigin.Local);
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.Equal(NftVerdictKind.Accept, r.Verdict));
    }

    [Fact]
    public void Families_InetTablesSeeBoth_IpMatchesSkipIPv6()
    {
        var t = new NftTable(NftFamily.Inet, "egress");
        var state = new NftState();
        state.Apply(new NftTransaction().Add(t)
            .Add(t, new NftChain("forward", new NftHookSpec(NftChainType.Filter, NftHook.Forward, 0)))
            .Add(t, new NftChain("postrouting", new NftHookSpec(NftChainType.Nat, NftHook.Postrouting, 100)))
            .AddRule(t, "forward", "ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } ct direction original reject with icmp type admin-prohibited")
            .AddRule(t, "forward", "ip6 saddr fd00:10:244::/56 udp dport 53-54 drop")
            .AddRule(t, "postrouting", "ip6 saddr fd00:10:244::/56 ip6 daddr != fd00:10:244::/56 masquerade"));
        var tracer = new NftTracer(state, Local);
        var out4 = Assert.Single(tracer.Trace(NftPacket.Tcp("10.244.1.5", "8.8.8.8", 443)));
        Assert.Equal("reject with icmp type admin-prohibited", out4.ToString());
        Assert.Equal(NftVerdictKind.Accept, Assert.Single(tracer.Trace(NftPacket.Tcp("10.244.1.5", "10.96.0.1", 443))).Verdict);
        Assert.Equal(NftVerdictKind.Accept, Assert.Single(tracer.Trace(NftPacket.Tcp("10.244.1.5", "8.8.8.8", 443) with { CtReply = true })).Verdict);
        Assert.Equal(NftVerdictKind.Drop, Assert.Single(tracer.Trace(NftPacket.Udp("fd00:10:244::5", "fd00:99::1", 54))).Verdict);
        var v6 = Assert.Single(tracer.Trace(NftPacket.Tcp("fd00:10:244::5", "fd00:99::1", 54)));
        Assert.True(v6.Masqueraded);
    }

    [Fact]
    public void SetsOfConcatenationsAndIntervals_Match()
    {
        var t = new NftTable(NftFamily.Inet, "policy");
        var state = new NftState();
        state.Apply(new NftTransaction().Add(t)
            .Add(t, new NftChain("forward", new NftHookSpec(NftChainType.Filter, NftHook.Forward, 0, DropPolicy: true)))
            .Add(t, new NftSet("allowed", "ipv4_addr . inet_proto . inet_service", Flags: NftSetFlags.Interval))
            .Add(t, new NftSet("blocks", "ipv4_addr", Flags: NftSetFlags.Interval))
            .AddRule(t, "forward", "ct state established,related accept")
            .AddRule(t, "forward", "ip saddr @blocks drop")
            .AddRule(t, "forward", "ip daddr . meta l4proto . th dport @allowed accept")
            .AddElement(t, "allowed", "10.244.1.5 . tcp . 80-81")
            .AddElement(t, "blocks", "10.244.9.0-10.244.9.255"));
        var tracer = new NftTracer(state, Local);
        Assert.Equal(NftVerdictKind.Accept, tracer.TraceOne(NftPacket.Tcp("10.244.2.2", "10.244.1.5", 81), NftOrigin.Incoming).Verdict);
        var denied = tracer.TraceOne(NftPacket.Tcp("10.244.2.2", "10.244.1.5", 82), NftOrigin.Incoming);
        Assert.Equal(NftVerdictKind.Drop, denied.Verdict);
        Assert.Equal(-1, denied.Decided!.Rule);
        Assert.Equal("ip saddr @blocks drop", tracer.TraceOne(NftPacket.Tcp("10.244.9.9", "10.244.1.5", 80), NftOrigin.Incoming).Decided!.Text);
        Assert.Equal(NftVerdictKind.Accept, tracer.TraceOne(NftPacket.Tcp("10.244.9.9", "10.244.1.5", 82) with { CtState = NftCtState.Related }, NftOrigin.Incoming).Verdict);
    }

    [Fact]
    public void Snat_AndDnatThroughAMap()
    {
        var t = new NftTable(NftFamily.Ip, "nat");
        var state = new NftState();
        state.Apply(new NftTransaction().Add(t)
            .Add(t, new NftChain("pre", new NftHookSpec(NftChainType.Nat, NftHook.Prerouting, -100)))
            .Add(t, new NftChain("post", new NftHookSpec(NftChainType.Nat, NftHook.Postrouting, 100)))
            .Add(t, new NftSet("eps", "ip daddr . th dport . numgen random mod 2", Value: "ip daddr . th dport", TypeOf: true))
            .AddRule(t, "pre", "meta l4proto tcp dnat ip to ip daddr . tcp dport . numgen random mod 2 map @eps")
            .AddRule(t, "post", "ip daddr 10.244.1.5 snat ip to 172.18.0.11")
            .AddElement(t, "eps", "10.96.0.10 . 80 . 0", "10.244.1.5 . 8080")
            .AddElement(t, "eps", "10.96.0.10 . 80 . 1", "10.244.2.5 . 8080"));
        var results = new NftTracer(state, Local).Trace(NftPacket.Tcp("10.244.3.3", "10.96.0.10", 80));
        Assert.Equal(["accept 10.244.1.5:8080 snat 172.18.0.11", "accept 10.244.2.5:8080"], results.Select(r => r.ToString()).Order());
    }

    [Fact]
    public void UnknownSyntax_IsAnError_NotAMismatch()
    {
        var t = new NftTable(NftFamily.Ip, "x");
        var state = new NftState();
        state.Apply(new NftTransaction().Add(t).Add(t, new NftChain("in", new NftHookSpec(NftChainType.Filter, NftHook.Input, 0))).AddRule(t, "in", "osf name Linux drop"));
        Assert.Throws<InvalidOperationException>(() => new NftTracer(state, Local).Trace(NftPacket.Tcp("1.1.1.1", Node, 22)));
    }
}
