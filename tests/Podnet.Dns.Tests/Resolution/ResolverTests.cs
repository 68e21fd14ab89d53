using Podnet.Dns.Index;
using Podnet.Dns.Resolution;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Resolution;

public class ResolverTests
{
    private const string Soa = "cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1234 7200 1800 86400 30";
    private const string Nx = "NXDOMAIN";
    private const string NoData = "NODATA";
    private static readonly RecordIndex Index = Cluster.Index();

    /// <summary>(qname, qtype) → expected answers, or NXDOMAIN / NODATA (both with the zone's SOA in authority).</summary>
    public static TheoryData<string, string, string[]> Table() => new()
    {
        // 2.2 schema version
        { "dns-version.cluster.local", "TXT", ["dns-version.cluster.local. 28800 TXT \"1.1.0\""] },
        { "dns-version.cluster.local", "A", [NoData] },
        // 2.3.1 ClusterIP A/AAAA, both families
        { "web.default.svc.cluster.local", "A", ["web.default.svc.cluster.local. 30 A 10.96.0.20"] },
        { "web.default.svc.cluster.local", "AAAA", ["web.default.svc.cluster.local. 30 AAAA fd00:10:96::20"] },
        { "v4only.default.svc.cluster.local", "AAAA", [NoData] },
        { "v6only.default.svc.cluster.local", "AAAA", ["v6only.default.svc.cluster.local. 30 AAAA fd00:10:96::40"] },
        { "v6only.default.svc.cluster.local", "A", [NoData] },
        { "web.other.svc.cluster.local", "A", ["web.other.svc.cluster.local. 30 A 10.96.1.20"] },
        { "missing.default.svc.cluster.local", "A", [Nx] },
        { "web.nope.svc.cluster.local", "A", [Nx] },
        { "a.b.web.default.svc.cluster.local", "A", [Nx] },
        // 2.3.2 SRV for named ports only
        { "_http._tcp.web.default.svc.cluster.local", "SRV", ["_http._tcp.web.default.svc.cluster.local. 30 SRV 0 100 80 web.default.svc.cluster.local."] },
        { "_dns._udp.v4only.default.svc.cluster.local", "SRV", ["_dns._udp.v4only.default.svc.cluster.local. 30 SRV 0 100 53 v4only.default.svc.cluster.local."] },
        { "_http._udp.web.default.svc.cluster.local", "SRV", [Nx] },
        { "_tcp.web.default.svc.cluster.local", "SRV", [NoData] },
        { "_http._tcp.web.default.svc.cluster.local", "A", [NoData] },
        { "plain.default.svc.cluster.local", "SRV", [NoData] },
        { "web.default.svc.cluster.local", "SRV", ["web.default.svc.cluster.local. 30 SRV 0 50 80 web.default.svc.cluster.local.", "web.default.svc.cluster.local. 30 SRV 0 50 9090 web.default.svc.cluster.local."] },
        // 2.3.3 PTR for ClusterIPs, both families
        { "20.0.96.10.in-addr.arpa", "PTR", ["20.0.96.10.in-addr.arpa. 30 PTR web.default.svc.cluster.local."] },
        { "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa", "PTR", ["0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa. 30 PTR web.default.svc.cluster.local."] },
        // 2.4.1 headless: ready endpoints only, both families
        { "db.default.svc.cluster.local", "A", ["db.default.svc.cluster.local. 30 A 10.244.1.5", "db.default.svc.cluster.local. 30 A 10.244.2.6"] },
        { "db.default.svc.cluster.local", "AAAA", ["db.default.svc.cluster.local. 30 AAAA fd00:10:244:1::5"] },
        { "db-0.db.default.svc.cluster.local", "A", ["db-0.db.default.svc.cluster.local. 30 A 10.244.1.5"] },
        { "db-0.db.default.svc.cluster.local", "AAAA", ["db-0.db.default.svc.cluster.local. 30 AAAA fd00:10:244:1::5"] },
        { "10-244-2-6.db.default.svc.cluster.local", "A", ["10-244-2-6.db.default.svc.cluster.local. 30 A 10.244.2.6"] },
        { "10-244-2-6.db.default.svc.cluster.local", "AAAA", [NoData] },
        { "10-244-3-7.db.default.svc.cluster.local", "A", [Nx] },
        { "empty.default.svc.cluster.local", "A", [Nx] },
        { "unready.default.svc.cluster.local", "A", ["unready.default.svc.cluster.local. 30 A 10.244.4.8"] },
        // 2.4.2 SRV per ready endpoint, with the slice's port
        { "_pg._tcp.db.default.svc.cluster.local", "SRV", ["_pg._tcp.db.default.svc.cluster.local. 30 SRV 0 50 15432 db-0.db.default.svc.cluster.local.", "_pg._tcp.db.default.svc.cluster.local. 30 SRV 0 50 15432 10-244-2-6.db.default.svc.cluster.local."] },
        { "_pg._tcp.empty.default.svc.cluster.local", "SRV", [Nx] },
        // 2.4.3 PTR for headless endpoints, both families
        { "5.1.244.10.in-addr.arpa", "PTR", ["5.1.244.10.in-addr.arpa. 30 PTR db-0.db.default.svc.cluster.local."] },
        { "6.2.244.10.in-addr.arpa", "PTR", ["6.2.244.10.in-addr.arpa. 30 PTR 10-244-2-6.db.default.svc.cluster.local."] },
        { "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", "PTR", ["5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa. 30 PTR db-0.db.default.svc.cluster.local."] },
        // 2.5 ExternalName: the CNAME answers any type; an in-zone target is chased in the index
        { "ext.default.svc.cluster.local", "CNAME", ["ext.default.svc.cluster.local. 30 CNAME example.com."] },
        { "ext.default.svc.cluster.local", "TXT", ["ext.default.svc.cluster.local. 30 CNAME example.com."] },
        { "alias.default.svc.cluster.local", "A", ["alias.default.svc.cluster.local. 30 CNAME web.default.svc.cluster.local.", "web.default.svc.cluster.local. 30 A 10.96.0.20"] },
        { "alias.default.svc.cluster.local", "AAAA", ["alias.default.svc.cluster.local. 30 CNAME web.default.svc.cluster.local.", "web.default.svc.cluster.local. 30 AAAA fd00:10:96::20"] },
        // pods insecure, both families
        { "10-244-9-9.default.pod.cluster.local", "A", ["10-244-9-9.default.pod.cluster.local. 30 A 10.244.9.9"] },
        { "10-244-9-9.default.pod.cluster.local", "AAAA", [NoData] },
        { "fd00-10-244-1--9.default.pod.cluster.local", "AAAA", ["fd00-10-244-1--9.default.pod.cluster.local. 30 AAAA fd00:10:244:1::9"] },
        { "10-244-9-9.nope.pod.cluster.local", "A", [Nx] },
        { "10-244-9.default.pod.cluster.local", "A", [Nx] },
        { "web.default.pod.cluster.local", "A", [Nx] },
        // namespaces and the zone's structure
        { "default.svc.cluster.local", "A", [NoData] },
        { "quiet.svc.cluster.local", "A", [NoData] },
        { "nope.svc.cluster.local", "A", [Nx] },
        { "svc.cluster.local", "A", [NoData] },
        { "default.pod.cluster.local", "A", [NoData] },
        { "cluster.local", "A", [NoData] },
        { "cluster.local", "SOA", [Soa] },
        { "www.google.com.default.svc.cluster.local", "A", [Nx] },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Resolve_Table(string name, string type, string[] expected)
    {
        var (outcome, response) = Cluster.Ask(Index, name, TypeOf(type));
        Assert.Equal(ResolveOutcome.Answered, outcome);
        Assert.True(response.Authoritative);
        if (expected is [Nx] or [NoData])
        {
            Assert.Equal(expected[0] == Nx ? ResponseCode.NxDomain : ResponseCode.NoError, response.Rcode);
            Assert.Empty(response.Answers);
            Assert.Equal([Soa], response.Authority);
            return;
        }
        Assert.Equal(ResponseCode.NoError, response.Rcode);
        Assert.Equal(expected, response.Answers);
        Assert.Empty(response.Authority);
    }

    [Fact]
    public void Resolve_MixedCaseQuestion_AnswersWithTheQuestionsCase()
    {
        var (_, response) = Cluster.Ask(Index, "WEB.Default.SVC.cluster.LOCAL", RecordType.A);
        Assert.Equal("WEB.Default.SVC.cluster.LOCAL. A", response.Question);
        Assert.Equal(["WEB.Default.SVC.cluster.LOCAL. 30 A 10.96.0.20"], response.Answers);
        (_, response) = Cluster.Ask(Index, "Nope.Default.SVC.Cluster.Local", RecordType.A);
        Assert.Equal(["Cluster.Local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1234 7200 1800 86400 30"], response.Authority);
    }

    [Fact]
    public void Resolve_Srv_CarriesTheTargetsAddressesInAdditional()
    {
        var (_, response) = Cluster.Ask(Index, "_http._tcp.web.default.svc.cluster.local", RecordType.Srv);
        Assert.Equal(["web.default.svc.cluster.local. 30 A 10.96.0.20", "web.default.svc.cluster.local. 30 AAAA fd00:10:96::20"], response.Additional);
        (_, response) = Cluster.Ask(Index, "_pg._tcp.db.default.svc.cluster.local", RecordType.Srv);
        Assert.Equal(
            ["db-0.db.default.svc.cluster.local. 30 A 10.244.1.5", "db-0.db.default.svc.cluster.local. 30 AAAA fd00:10:244:1::5", "10-244-2-6.db.default.svc.cluster.local. 30 A 10.244.2.6"],
            response.Additional);
    }

    [Theory]
    [InlineData(' ')]
    [InlineData('.')]
    [InlineData('\u00e9')]
    public void Resolve_NameInTheZoneWithAByteNoNameHas_IsNxDomain(char odd)
    {
        var query = DnsMessages.Query("wXb.default.svc.cluster.local", RecordType.A);
        query[14] = (byte)odd;
        var (outcome, response) = Cluster.Ask(Index, query);
        Assert.Equal(ResolveOutcome.Answered, outcome);
        Assert.Equal(ResponseCode.NxDomain, response.Rcode);
        Assert.True(response.Authoritative);
        query = DnsMessages.Query("wXb.example.com", RecordType.A);
        query[14] = (byte)odd;
        Assert.Equal(ResolveOutcome.Forward, Cluster.Ask(Index, query).Outcome);
    }

    [Fact]
    public void Resolve_ExternalNameOutsideTheZone_ChasesForAddresses()
    {
        var (outcome, response) = Cluster.Ask(Index, "ext.default.svc.cluster.local", RecordType.A);
        Assert.Equal(ResolveOutcome.Chase, outcome);
        Assert.Equal(["ext.default.svc.cluster.local. 30 CNAME example.com."], response.Answers);
    }

    [Fact]
    public void Resolve_Any_ReturnsEverySetAtTheName()
    {
        var (_, response) = Cluster.Ask(Index, "web.default.svc.cluster.local", RecordType.Any);
        Assert.Equal(4, response.Answers.Length);
    }

    [Theory]
    [InlineData("example.com", RecordType.A)]
    [InlineData("1.2.3.4.in-addr.arpa", RecordType.Ptr)]
    [InlineData("20.0.96.10.in-addr.arpa", RecordType.A)]
    [InlineData("cluster.local.example.com", RecordType.A)]
    [InlineData("xcluster.local", RecordType.A)]
    public void Resolve_NamesOutsideTheZone_AreForwarded(string name, ushort type)
    {
        Assert.Equal(ResolveOutcome.Forward, Cluster.Ask(Index, name, type).Outcome);
    }

    [Fact]
    public void Resolve_BeforeTheFirstSync_ServFailsTheZoneAndForwardsTheRest()
    {
        var unsynced = RecordIndex.Unsynced(new DnsOptions());
        var (outcome, response) = Cluster.Ask(unsynced, "web.default.svc.cluster.local", RecordType.A);
        Assert.Equal(ResolveOutcome.Answered, outcome);
        Assert.Equal(ResponseCode.ServFail, response.Rcode);
        Assert.Equal(ResolveOutcome.Forward, Cluster.Ask(unsynced, "example.com", RecordType.A).Outcome);
    }

    [Theory]
    [InlineData(RecordType.Axfr, 1, 0, ResponseCode.Refused)]
    [InlineData(RecordType.Ixfr, 1, 0, ResponseCode.Refused)]
    [InlineData(RecordType.A, 3, 0, ResponseCode.Refused)]
    [InlineData(RecordType.A, 255, 0, ResponseCode.Refused)]
    [InlineData(RecordType.A, 1, 2, ResponseCode.NotImp)]
    [InlineData(RecordType.A, 1, 5, ResponseCode.NotImp)]
    public void Resolve_UnsupportedRequests_GetTheirRcode(ushort type, ushort cls, int opcode, int rcode)
    {
        var query = DnsMessages.Query("web.default.svc.cluster.local", type, cls: cls, flags: (ushort)(opcode << 11));
        var (outcome, response) = Cluster.Ask(Index, query);
        Assert.Equal(ResolveOutcome.Answered, outcome);
        Assert.Equal(rcode, response.Rcode);
        Assert.Empty(response.Answers);
    }

    [Fact]
    public void Resolve_EdnsVersion1_IsBadVers()
    {
        var (_, response) = Cluster.Ask(Index, DnsMessages.Query("web.default.svc.cluster.local", RecordType.A, edns: true, ednsVersion: 1));
        Assert.Equal(ResponseCode.BadVers, response.Rcode);
    }

    [Fact]
    public void Resolve_PodsVerified_AnswersOnlyAddressesOfPodsInThatNamespace()
    {
        var verified = Cluster.Index(PodsMode.Verified);
        Assert.Equal(["10-244-1-5.default.pod.cluster.local. 30 A 10.244.1.5"], Cluster.Ask(verified, "10-244-1-5.default.pod.cluster.local", RecordType.A).Response.Answers);
        Assert.Equal(["fd00-10-244-1--5.default.pod.cluster.local. 30 AAAA fd00:10:244:1::5"], Cluster.Ask(verified, "fd00-10-244-1--5.default.pod.cluster.local", RecordType.Aaaa).Response.Answers);
        Assert.Equal(ResponseCode.NxDomain, Cluster.Ask(verified, "10-244-9-9.default.pod.cluster.local", RecordType.A).Response.Rcode);
        Assert.Equal(ResponseCode.NxDomain, Cluster.Ask(verified, "10-244-1-5.other.pod.cluster.local", RecordType.A).Response.Rcode);
    }

    [Fact]
    public void Resolve_PodsDisabled_IsNxDomain()
    {
        var disabled = Cluster.Index(PodsMode.Disabled);
        Assert.Equal(ResponseCode.NxDomain, Cluster.Ask(disabled, "10-244-1-5.default.pod.cluster.local", RecordType.A).Response.Rcode);
    }

    [Fact]
    public void Resolve_Ttl_IsTheOptionAndTheSoaMinimum()
    {
        var index = Cluster.Index(ttl: 5);
        Assert.Equal(["web.default.svc.cluster.local. 5 A 10.96.0.20"], Cluster.Ask(index, "web.default.svc.cluster.local", RecordType.A).Response.Answers);
        Assert.Equal(["cluster.local. 5 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1234 7200 1800 86400 5"], Cluster.Ask(index, "nope.default.svc.cluster.local", RecordType.A).Response.Authority);
    }

    [Fact]
    public void Resolve_AnotherZone_IsServedUnderIt()
    {
        var index = IndexBuilder.Build(Cluster.Snapshot(), new DnsOptions { Zone = "Lab.Example." }, 1);
        Assert.Equal(["web.default.svc.lab.example. 30 A 10.96.0.20"], Cluster.Ask(index, "web.default.svc.lab.example", RecordType.A).Response.Answers);
        Assert.Equal(ResolveOutcome.Forward, Cluster.Ask(index, "web.default.svc.cluster.local", RecordType.A).Outcome);
    }

    internal static ushort TypeOf(string type) => type switch
    {
        "A" => RecordType.A,
        "AAAA" => RecordType.Aaaa,
        "SRV" => RecordType.Srv,
        "PTR" => RecordType.Ptr,
        "TXT" => RecordType.Txt,
        "CNAME" => RecordType.Cname,
        "SOA" => RecordType.Soa,
        _ => throw new ArgumentException(type),
    };
}
