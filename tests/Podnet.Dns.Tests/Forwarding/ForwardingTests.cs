using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Forwarding;
using Podnet.Dns.Index;
using Podnet.Dns.Server;
using Podnet.Dns.Tests.Resolution;
using Podnet.Dns.Tests.Server;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Forwarding;

/// <summary>The server forwarding to upstreams the test starts on 127.0.0.1 (no other address is ever used).</summary>
public class ForwardingTests
{
    private static async Task<(DnsServer Server, DnsCounters Counters)> StartAsync(params FakeUpstream[] upstreams)
    {
        var counters = new DnsCounters();
        var forwarder = new Forwarder([.. upstreams.Select(u => u.EndPoint)], new ForwarderOptions { Timeout = TimeSpan.FromSeconds(1) }, counters);
        var holder = new IndexHolder(Cluster.Index());
        var server = DnsServer.Start(new DnsServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UdpWorkers = 1 }, new QueryHandler(holder, forwarder, counters));
        await Task.Yield();
        return (server, counters);
    }

    private static Task<Decoded> AskAsync(DnsServer server, byte[] query) => DnsMessages.AskAsync(server.LocalEndPoint, query);

    [Fact]
    public async Task Forward_AnswersFromTheUpstream_ThenFromTheCache()
    {
        await using var upstream = new FakeUpstream();
        var (server, counters) = await StartAsync(upstream);
        await using (server)
        {
            var first = await AskAsync(server, DnsMessages.Query("example.com", RecordType.A, id: 7, edns: true));
            Assert.Equal(7, first.Id);
            Assert.Equal(ResponseCode.NoError, first.Rcode);
            Assert.False(first.Authoritative);
            Assert.NotEqual(0, first.Flags & HeaderFlags.RecursionAvailable);
            Assert.Equal(["example.com. 60 A 192.0.2.1"], first.Answers);
            var second = await AskAsync(server, DnsMessages.Query("EXAMPLE.Com", RecordType.A, id: 8));
            Assert.Equal(8, second.Id);
            Assert.Equal("EXAMPLE.Com. A", second.Question);
            Assert.Equal(["EXAMPLE.Com. 60 A 192.0.2.1"], second.Answers);
            Assert.Equal(1, upstream.Queries);
            Assert.Equal(1, counters.CacheHits);
        }
    }

    [Fact]
    public async Task Forward_NegativeAnswer_IsCachedToo()
    {
        await using var upstream = new FakeUpstream();
        var (server, _) = await StartAsync(upstream);
        await using (server)
        {
            for (var i = 0; i < 3; i++)
            {
                var response = await AskAsync(server, DnsMessages.Query("missing.example", RecordType.A));
                Assert.Equal(ResponseCode.NxDomain, response.Rcode);
                Assert.Single(response.Authority);
            }
            Assert.Equal(1, upstream.Queries);
        }
    }

    [Fact]
    public async Task Forward_SilentFirstUpstream_FailsOverToTheNext_AndPrefersItAfterwards()
    {
        await using var silent = new FakeUpstream(silent: true);
        await using var live = new FakeUpstream();
        var (server, counters) = await StartAsync(silent, live);
        await using (server)
        {
            Assert.Equal(["example.com. 60 A 192.0.2.1"], (await AskAsync(server, DnsMessages.Query("example.com", RecordType.A))).Answers);
            Assert.Equal(1, silent.Queries);
            Assert.Equal(1, counters.UpstreamFailures);
            Assert.Equal(["example.com. 60 AAAA 2001:db8::1"], (await AskAsync(server, DnsMessages.Query("example.com", RecordType.Aaaa))).Answers);
            Assert.Equal(1, silent.Queries);
            Assert.Equal(2, live.Queries);
        }
    }

    [Fact]
    public async Task Forward_NoUpstreamAnswers_IsServFail()
    {
        await using var silent = new FakeUpstream(silent: true);
        var (server, _) = await StartAsync(silent);
        await using (server)
        {
            Assert.Equal(ResponseCode.ServFail, (await AskAsync(server, DnsMessages.Query("example.com", RecordType.A))).Rcode);
        }
    }

    [Fact]
    public async Task Forward_TruncatedUdpReply_IsAskedAgainOverTcp()
    {
        await using var upstream = new FakeUpstream();
        var (server, _) = await StartAsync(upstream);
        await using (server)
        {
            var response = await AskAsync(server, DnsMessages.Query("big.example", RecordType.A, edns: true));
            Assert.False(response.Truncated);
            Assert.Equal(40, response.Answers.Length);
            // The same to a client without EDNS does not fit 512 octets: TC, and the client goes to TCP.
            var small = await AskAsync(server, DnsMessages.Query("big.example", RecordType.A));
            Assert.True(small.Truncated);
            Assert.Empty(small.Answers);
        }
    }

    [Fact]
    public async Task ExternalName_OutsideTheZone_IsChasedThroughTheUpstream()
    {
        await using var upstream = new FakeUpstream();
        var (server, _) = await StartAsync(upstream);
        await using (server)
        {
            var response = await AskAsync(server, DnsMessages.Query("ext.default.svc.cluster.local", RecordType.A));
            Assert.True(response.Authoritative);
            Assert.Equal(["ext.default.svc.cluster.local. 30 CNAME example.com.", "example.com. 60 A 192.0.2.1"], response.Answers);
        }
    }

    [Fact]
    public async Task Dig_ThroughTheForwarder()
    {
        await using var upstream = new FakeUpstream();
        var (server, _) = await StartAsync(upstream);
        await using (server)
        {
            var dig = await Dig.RunAsync(server.LocalEndPoint, "example.com", "AAAA");
            Assert.Equal("NOERROR", dig.Status);
            Assert.Contains("ra", dig.Flags);
            Assert.Equal(["example.com. 60 AAAA 2001:db8::1"], dig.Answers);
            var tcp = await Dig.RunAsync(server.LocalEndPoint, "+tcp", "missing.example", "A");
            Assert.Equal("NXDOMAIN", tcp.Status);
        }
    }
}
