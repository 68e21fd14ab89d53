using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Index;
using Podnet.Dns.Records;
using Podnet.Dns.Server;
using Podnet.Dns.Tests.Resolution;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Server;

/// <summary>The server on 127.0.0.1 with a free port, over the model cluster plus a headless Service big enough to truncate.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public DnsServer Server { get; private set; } = null!;

    public DnsCounters Counters { get; } = new();

    public Task InitializeAsync()
    {
        var snapshot = Cluster.Snapshot();
        var big = new DnsService("default", "big", ServiceKind.Headless, [], [new("http", "TCP", 80)]);
        var slice = new DnsEndpointSlice("default", "big", [new("http", "TCP", 8080)], [.. Enumerable.Range(1, 100).Select(i => new DnsEndpoint([IPAddress.Parse($"10.244.5.{i}")], null, true))]);
        snapshot = snapshot with { Services = [.. snapshot.Services, big], EndpointSlices = [.. snapshot.EndpointSlices, slice] };
        var holder = new IndexHolder(IndexBuilder.Build(snapshot, new DnsOptions(), Cluster.Serial));
        Server = DnsServer.Start(new DnsServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UdpWorkers = 2 }, new QueryHandler(holder, null, Counters));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public class DnsServerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private IPEndPoint EndPoint => fixture.Server.LocalEndPoint;

    [Fact]
    public async Task Udp_ClusterIPService_AnswersAuthoritatively()
    {
        Assert.True(Dig.Installed, "dig is missing: scripts/deps.sh installs dnsutils");
        var dig = await Dig.RunAsync(EndPoint, "web.default.svc.cluster.local", "A");
        Assert.Equal("NOERROR", dig.Status);
        Assert.Contains("aa", dig.Flags);
        Assert.Equal(["web.default.svc.cluster.local. 30 A 10.96.0.20"], dig.Answers);
    }

    [Fact]
    public async Task Tcp_SameAnswer()
    {
        var dig = await Dig.RunAsync(EndPoint, "+tcp", "_http._tcp.web.default.svc.cluster.local", "SRV");
        Assert.Equal("NOERROR", dig.Status);
        Assert.Equal(["_http._tcp.web.default.svc.cluster.local. 30 SRV 0 100 80 web.default.svc.cluster.local."], dig.Answers);
    }

    [Fact]
    public async Task Udp_NxDomainAndNoData_CarryTheSoa()
    {
        var nx = await Dig.RunAsync(EndPoint, "nope.default.svc.cluster.local", "A");
        Assert.Equal("NXDOMAIN", nx.Status);
        Assert.Equal(["cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1234 7200 1800 86400 30"], nx.Authority);
        var nodata = await Dig.RunAsync(EndPoint, "v4only.default.svc.cluster.local", "AAAA");
        Assert.Equal("NOERROR", nodata.Status);
        Assert.Empty(nodata.Answers);
        Assert.Single(nodata.Authority);
    }

    [Fact]
    public async Task Udp_MixedCase_IsAnsweredInTheQuestionsCase()
    {
        var dig = await Dig.RunAsync(EndPoint, "Web.DEFAULT.svc.Cluster.Local", "AAAA");
        Assert.Equal(["Web.DEFAULT.svc.Cluster.Local. 30 AAAA fd00:10:96::20"], dig.Answers);
    }

    [Fact]
    public async Task Udp_LargeAnswer_IsTruncated_AndDigRetriesOverTcp()
    {
        var truncated = await Dig.RunAsync(EndPoint, "+noedns", "+ignore", "big.default.svc.cluster.local", "A");
        Assert.Equal("NOERROR", truncated.Status);
        Assert.Contains("tc", truncated.Flags);
        Assert.Empty(truncated.Answers);
        var retried = await Dig.RunAsync(EndPoint, "+noedns", "big.default.svc.cluster.local", "A");
        Assert.Contains("Truncated, retrying in TCP mode", retried.Output);
        Assert.Equal(100, retried.Answers.Length);
        var edns = await Dig.RunAsync(EndPoint, "+bufsize=1232", "+ignore", "big.default.svc.cluster.local", "A");
        Assert.Contains("tc", edns.Flags);
        Assert.Contains("udp: 1232", edns.Output);
    }

    [Fact]
    public async Task HeaderOnlyQuery_IsFormErr()
    {
        var dig = await Dig.RunAsync(EndPoint, "+header-only", "web.default.svc.cluster.local");
        Assert.Equal("FORMERR", dig.Status);
    }

    [Fact]
    public async Task StatusOpcode_IsNotImp()
    {
        var dig = await Dig.RunAsync(EndPoint, "+opcode=status", "web.default.svc.cluster.local");
        Assert.Equal("NOTIMP", dig.Status);
    }

    [Fact]
    public async Task ZoneTransfer_IsRefused()
    {
        var axfr = await Dig.RunAsync(EndPoint, "cluster.local", "AXFR");
        Assert.Contains("Transfer failed", axfr.Output);
        var udp = await SendUdpAsync(DnsMessages.Query("cluster.local", RecordType.Axfr));
        Assert.Equal(ResponseCode.Refused, DnsMessages.Decode(udp).Rcode);
    }

    [Fact]
    public async Task NoUpstream_NameOutsideTheZone_IsServFailAtOnce()
    {
        var started = DateTime.UtcNow;
        var dig = await Dig.RunAsync(EndPoint, "example.com", "A");
        Assert.Equal("SERVFAIL", dig.Status);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task HostilePackets_OverUdpAndTcp_LeaveTheServerAnswering()
    {
        var corpus = QueryParserTestsCorpus();
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        foreach (var packet in corpus)
        {
            await udp.SendToAsync(packet, EndPoint);
        }
        foreach (var packet in corpus)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(EndPoint);
            var stream = tcp.GetStream();
            var framed = new byte[packet.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)packet.Length);
            packet.CopyTo(framed, 2);
            await stream.WriteAsync(framed);
        }
        // A length prefix promising more than is sent, then the connection closed.
        using (var half = new TcpClient())
        {
            await half.ConnectAsync(EndPoint);
            await half.GetStream().WriteAsync(new byte[] { 0xFF, 0xFF, 1, 2, 3 });
        }
        var formErr = await SendUdpAsync(DnsMessages.Query("a.b", RecordType.A).Select((b, i) => i == 5 ? (byte)2 : b).ToArray());
        Assert.Equal(ResponseCode.FormErr, DnsMessages.Decode(formErr).Rcode);
        var dig = await Dig.RunAsync(EndPoint, "db.default.svc.cluster.local", "A");
        Assert.Equal(2, dig.Answers.Length);
    }

    private static List<byte[]> QueryParserTestsCorpus()
    {
        var corpus = new List<byte[]>();
        foreach (var row in Wire.QueryParserTests.Hostile())
        {
            corpus.Add((byte[])row[1]);
        }
        var random = new Random(53);
        for (var i = 0; i < 200; i++)
        {
            var packet = new byte[random.Next(1, 300)];
            random.NextBytes(packet);
            if (packet.Length > 2)
            {
                packet[2] &= 0x7F;
            }
            corpus.Add(packet);
        }
        return [.. corpus.Where(p => p.Length > 0)];
    }

    private Task<byte[]> SendUdpAsync(byte[] query) => DnsMessages.AskUdpAsync(EndPoint, query);
}

public class DualStackListenTests
{
    [Fact]
    public async Task ListenOnIPv6Any_AnswersBothFamilies()
    {
        var holder = new IndexHolder(Cluster.Index());
        await using var server = DnsServer.Start(new DnsServerOptions { Listen = new IPEndPoint(IPAddress.IPv6Any, 0), UdpWorkers = 2 }, new QueryHandler(holder, null, new DnsCounters()));
        var port = server.LocalEndPoint.Port;
        var v6 = await Dig.RunAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), "web.default.svc.cluster.local", "AAAA");
        Assert.Equal(["web.default.svc.cluster.local. 30 AAAA fd00:10:96::20"], v6.Answers);
        var v4 = await Dig.RunAsync(new IPEndPoint(IPAddress.Loopback, port), "+tcp", "web.default.svc.cluster.local", "A");
        Assert.Equal(["web.default.svc.cluster.local. 30 A 10.96.0.20"], v4.Answers);
        var v4Udp = await Dig.RunAsync(new IPEndPoint(IPAddress.Loopback, port), "web.default.svc.cluster.local", "A");
        Assert.Equal(v4.Answers, v4Udp.Answers);
    }
}
