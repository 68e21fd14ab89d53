using System.Net;
using Podnet.Check.Trace;
using Podnet.Kernel;

namespace Podnet.Check.Tests.Trace;

/// <summary>Trace's pure parts over `nft monitor` lines as nft 1.0 prints them (captured in a lab).</summary>
public sealed class TraceTests
{
    private const string Table = "podnet-trace-ab12";

    private static readonly string[] s_source =
    [
        "add table inet podnet-trace-ab12",
        "trace id 3b2ba69c inet podnet-trace-ab12 pre packet: iif \"pn0\" ether saddr 2a:1b:00:00:00:01 ip saddr 10.244.0.19 ip daddr 10.96.117.36 ip protocol tcp tcp sport 41000 tcp dport 80 tcp flags == syn ",
        "trace id 3b2ba69c inet podnet-trace-ab12 pre rule ip saddr 10.244.0.19 meta l4proto tcp meta nftrace set 1 (verdict continue)",
        "trace id 3b2ba69c inet podnet-trace-ab12 pre policy accept ",
        "trace id 3b2ba69c ip podnet-proxy nat-prerouting rule jump services (verdict jump services)",
        "trace id 3b2ba69c ip podnet-proxy slot-0 rule meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @slot-0 (verdict accept)",
        "trace id 3b2ba69c inet podnet-policy forward policy accept ",
        "trace id 3b2ba69c inet podnet-trace-ab12 pre packet: iif \"pn0\" ip saddr 10.244.0.19 ip daddr 10.96.117.36 tcp sport 41000 tcp dport 80 tcp flags == ack ",
        "trace id 3b2ba69c inet podnet-trace-ab12 pre policy accept ",
        "trace id 3b2ba69c inet podnet-policy forward rule ct state established,related accept (verdict accept)",
    ];

    [Fact]
    public void Parse_TraceLines_KindsAndVerdicts()
    {
        Assert.Null(NftTraceLine.Parse(s_source[0]));
        var packet = NftTraceLine.Parse(s_source[1])!;
        Assert.Equal(("3b2ba69c", "inet", Table, "pre", "packet"), (packet.Id, packet.Family, packet.Table, packet.Chain, packet.Kind));
        var dnat = NftTraceLine.Parse(s_source[5])!;
        Assert.Equal(("rule", "accept"), (dnat.Kind, dnat.Verdict));
        Assert.Equal("meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @slot-0", dnat.Text);
        Assert.Equal(("policy", "accept"), (NftTraceLine.Parse(s_source[6])!.Kind, NftTraceLine.Parse(s_source[6])!.Verdict));
        Assert.Equal("jump services", NftTraceLine.Parse(s_source[4])!.Verdict);
    }

    [Fact]
    public void FirstPacket_StopsWhereTracesOwnTableSeesTheNextPacketOfTheFlow()
    {
        var lines = s_source.Select(NftTraceLine.Parse).OfType<NftTraceLine>().ToArray();
        var packet = TraceExplainer.FirstPacket(lines, lines[0]);
        Assert.Equal(["nat-prerouting", "slot-0", "forward"], packet.Select(l => l.Chain));
        Assert.Equal("policy", packet[2].Kind);
    }

    [Fact]
    public void Explain_ServiceOnAnotherNode_EndpointFromConntrackAndEachNodesSteps()
    {
        var lines = s_source.Select(NftTraceLine.Parse).OfType<NftTraceLine>().ToArray();
        var ct = new ConntrackEntry("tcp", "ESTABLISHED", 100, IPAddress.Parse("10.244.0.19"), IPAddress.Parse("10.96.117.36"), 41000, 80,
            IPAddress.Parse("10.244.1.26"), IPAddress.Parse("10.244.0.19"), 8080, 41000);
        var steps = TraceExplainer.Explain(new TraceFacts
        {
            Pod = "default/tc",
            PodNode = "n1",
            PodIp = IPAddress.Parse("10.244.0.19"),
            Destination = IPAddress.Parse("10.96.117.36"),
            Port = 80,
            Service = "default/ts port 80/TCP (ClusterIP)",
            Conntrack = ct,
            EndpointPod = "default/ts on n2",
            Nodes = [new NodeEvidence("n1", lines, "10.244.1.26 via 172.18.0.12 dev eth0"), new NodeEvidence("n2", [], "10.244.1.26 dev pn0")],
        });
        Assert.Equal(
            [
                "L4 n1 True Service default/ts port 80/TCP (ClusterIP) -> endpoint 10.244.1.26:8080 (pod default/ts on n2)",
                "L3 n1 True arrived on pn0",
                "L4 n1 True ip podnet-proxy nat-prerouting: jump services (jump services)",
                "L4 n1 True ip podnet-proxy slot-0: meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @slot-0 (accept)",
                "L3 n1 True inet podnet-policy forward: policy accept",
                "L3 n1 True route: 10.244.1.26 via 172.18.0.12 dev eth0",
                "L3 n2 False the packet was not seen here",
                "L3 n2 False route: 10.244.1.26 dev pn0",
                "reply n2 False the reply was not seen here",
                "reply n1 False the reply was not seen here",
            ],
            steps.Select(s => $"{s.Layer} {s.Node} {s.Confirmed} {s.Text}"));
    }

    [Fact]
    public void Explain_DroppedPacket_NamesTheRule()
    {
        var lines = new[]
        {
            "trace id 11 inet podnet-trace-ab12 pre packet: iif \"eth0\" ip saddr 10.244.0.19 ip daddr 10.244.1.30 tcp sport 5 tcp dport 8080 ",
            "trace id 11 inet podnet-policy in-abc rule drop (verdict drop)",
        }.Select(NftTraceLine.Parse).OfType<NftTraceLine>().ToArray();
        var steps = TraceExplainer.Explain(new TraceFacts
        {
            Pod = "default/tc", PodNode = "n1", PodIp = IPAddress.Parse("10.244.0.19"), Destination = IPAddress.Parse("10.244.1.30"), Port = 8080,
            Nodes = [new NodeEvidence("n2", lines, "10.244.1.30 dev pn0")],
        });
        Assert.Equal("DROPPED by inet podnet-policy in-abc: drop", steps[^1].Text);
    }

    /// <summary>Captured in a lab: a SYN to a Service without endpoints, prerouting under one trace id and forward (where the proxy rejects it) under another.</summary>
    [Fact]
    public void Explain_NoEndpoints_TheRejectAtForwardUnderANewTraceIdIsFoundAndExplained()
    {
        var lines = new[]
        {
            "trace id b8734ed6 inet podnet-trace-ab12 pre packet: iif \"pn0\" ether saddr 52:b2:af:a7:0f:68 ether daddr 5a:e2:c2:c0:60:9c ip saddr 10.244.0.3 ip daddr 10.96.82.245 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 35415 ip protocol tcp ip length 60 tcp sport 38198 tcp dport 80 tcp flags == syn tcp window 64240 ",
            "trace id b8734ed6 inet podnet-trace-ab12 pre rule ip saddr 10.244.0.3 meta l4proto tcp meta nftrace set 1 (verdict continue)",
            "trace id b8734ed6 inet podnet-trace-ab12 pre policy accept ",
            "trace id b8734ed6 ip podnet-proxy nat-prerouting packet: iif \"pn0\" ether saddr 52:b2:af:a7:0f:68 ether daddr 5a:e2:c2:c0:60:9c ip saddr 10.244.0.3 ip daddr 10.96.82.245 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 35415 ip length 60 tcp sport 38198 tcp dport 80 tcp flags == syn tcp window 64240 ",
            "trace id b8734ed6 ip podnet-proxy nat-prerouting rule jump services (verdict jump services)",
            "trace id b8734ed6 ip podnet-proxy nat-prerouting policy accept ",
            "trace id 7777aaaa ip podnet-proxy filter-forward packet: iif \"pn0\" oif \"eth0\" ip saddr 10.244.0.3 ip daddr 10.96.1.1 ip ttl 63 ip id 99 ip length 60 tcp sport 38198 tcp dport 80 tcp flags == syn ",
            "trace id 7777aaaa ip podnet-proxy reject-chain rule reject (verdict drop)",
            "trace id 40251b66 ip podnet-proxy filter-forward packet: iif \"pn0\" oif \"eth0\" ether saddr 52:b2:af:a7:0f:68 ether daddr 5a:e2:c2:c0:60:9c ip saddr 10.244.0.3 ip daddr 10.96.82.245 ip dscp cs0 ip ecn not-ect ip ttl 63 ip id 35415 ip length 60 tcp sport 38198 tcp dport 80 tcp flags == syn tcp window 64240 ",
            "trace id 40251b66 ip podnet-proxy filter-forward rule ct state new jump service-endpoints-check (verdict jump service-endpoints-check)",
            "trace id 40251b66 ip podnet-proxy service-endpoints-check rule ip daddr . meta l4proto . th dport vmap @no-endpoint-services (verdict goto reject-chain)",
            "trace id 40251b66 ip podnet-proxy reject-chain rule reject (verdict drop)",
        }.Select(NftTraceLine.Parse).OfType<NftTraceLine>().ToArray();
        var steps = TraceExplainer.Explain(new TraceFacts
        {
            Pod = "default/tn", PodNode = "n1", PodIp = IPAddress.Parse("10.244.0.3"), Destination = IPAddress.Parse("10.96.82.245"), Port = 80,
            Service = "default/none port 80/TCP (ClusterIP)", ServiceEndpoints = 0,
            Nodes = [new NodeEvidence("n1", lines, "10.96.82.245 via 172.18.0.1 dev eth0")],
        });
        // The other packet (another IPv4 id, under a third trace id) is not this one's.
        Assert.Single(steps, s => s.Text.StartsWith("DROPPED", StringComparison.Ordinal));
        Assert.Equal(
            [
                "L3 n1 True DROPPED by ip podnet-proxy reject-chain: reject",
                "L4 n1 True why: Service default/none port 80/TCP (ClusterIP) has no ready endpoints, so the proxy rejects its traffic",
            ],
            steps.TakeLast(2).Select(s => $"{s.Layer} {s.Node} {s.Confirmed} {s.Text}"));
        Assert.DoesNotContain(steps, s => s.Text.StartsWith("route:", StringComparison.Ordinal) || s.Layer == "reply");
    }

    [Theory]
    [InlineData("http://web/hostname", "web", 80, "http://web/hostname")]
    [InlineData("web.default:8080", "web.default", 8080, "http://web.default:8080/")]
    [InlineData("10.96.0.5:80/tcp", "10.96.0.5", 80, "http://10.96.0.5:80/")]
    [InlineData("[fd00::5]:80", "fd00::5", 80, "http://[fd00::5]:80/")]
    public void Target_Parses(string text, string host, int port, string url) =>
        Assert.Equal(new TraceTarget(host, port, "tcp", url), TraceTarget.Parse(text));

    [Fact]
    public void Target_Udp_IsHostPortWithItsProtocol() =>
        Assert.Equal(("dns.kube-system", 53, "udp", "dns.kube-system:53"), (TraceTarget.Parse("dns.kube-system:53/UDP").Host, TraceTarget.Parse("dns.kube-system:53/UDP").Port, TraceTarget.Parse("dns.kube-system:53/UDP").Protocol, TraceTarget.Parse("dns.kube-system:53/udp").HostPort));

    [Theory]
    [InlineData("web", "not HOST:PORT")]
    [InlineData("web:0", "not HOST:PORT")]
    [InlineData("web:80/sctp", "trace sends tcp or udp")]
    public void Target_Refused(string text, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => TraceTarget.Parse(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void Plan_MarksOnlyAndIsDeletedWhole()
    {
        var script = TracePlan.AddScript(Table, IPAddress.Parse("10.244.0.19"), "tcp");
        Assert.Contains("type filter hook prerouting priority -350; policy accept;", script, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.244.0.19 meta l4proto tcp meta nftrace set 1", script, StringComparison.Ordinal);
        Assert.Contains("ip daddr 10.244.0.19 meta l4proto tcp meta nftrace set 1", script, StringComparison.Ordinal);
        Assert.DoesNotContain("drop", script, StringComparison.Ordinal);
        Assert.Equal("delete table inet podnet-trace-ab12\n", TracePlan.DeleteScript(Table));
        Assert.Contains("ip6 saddr fd00:10:244::5", TracePlan.AddScript(Table, IPAddress.Parse("fd00:10:244::5"), "tcp"), StringComparison.Ordinal);
    }
}
