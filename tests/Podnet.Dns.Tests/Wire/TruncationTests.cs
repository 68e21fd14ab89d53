using System.Net;
using Podnet.Dns.Index;
using Podnet.Dns.Records;
using Podnet.Dns.Tests.Resolution;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Wire;

public class TruncationTests
{
    private static RecordIndex BigHeadless(int endpoints) => IndexBuilder.Build(
        new DnsSnapshot(
            ["default"],
            [new DnsService("default", "big", ServiceKind.Headless, [], [new("http", "TCP", 80)])],
            [new DnsEndpointSlice("default", "big", [new("http", "TCP", 8080)], [.. Enumerable.Range(1, endpoints).Select(i => new DnsEndpoint([IPAddress.Parse($"10.244.{i / 250}.{(i % 250) + 1}")], null, true))])],
            []),
        new DnsOptions(),
        1);

    [Fact]
    public void Finish_AnswerLargerThan512WithoutEdns_IsTruncatedAndEmpty()
    {
        var (_, response) = Cluster.Ask(BigHeadless(100), DnsMessages.Query("big.default.svc.cluster.local", RecordType.A), Limits.ClassicUdpSize);
        Assert.True(response.Truncated);
        Assert.Empty(response.Answers);
        Assert.Equal("big.default.svc.cluster.local. A", response.Question);
    }

    [Fact]
    public void Finish_SameAnswerOverTcp_IsWhole()
    {
        var (_, response) = Cluster.Ask(BigHeadless(100), DnsMessages.Query("big.default.svc.cluster.local", RecordType.A));
        Assert.False(response.Truncated);
        Assert.Equal(100, response.Answers.Length);
    }

    [Fact]
    public void Finish_EdnsRaisesTheLimit()
    {
        // 60 A records of 16 octets: 960 + header and question fit 1232, not 512.
        var (_, response) = Cluster.Ask(BigHeadless(60), DnsMessages.Query("big.default.svc.cluster.local", RecordType.A, edns: true, udpSize: 1232), Limits.EdnsUdpSize);
        Assert.False(response.Truncated);
        Assert.Equal(60, response.Answers.Length);
    }

    [Fact]
    public void Finish_AdditionalThatDoesNotFit_IsDroppedFirst()
    {
        // 18 SRV answers (60 octets each) fit 1232, their A records in additional do not.
        var (_, response) = Cluster.Ask(BigHeadless(18), DnsMessages.Query("_http._tcp.big.default.svc.cluster.local", RecordType.Srv, edns: true), Limits.EdnsUdpSize);
        Assert.False(response.Truncated);
        Assert.Equal(18, response.Answers.Length);
        Assert.Empty(response.Additional);
    }

    [Fact]
    public void Finish_BufferRunningOut_NeverLeavesAPartialAnswer_AndCostsOnlyAdditionalWhenItCan()
    {
        var index = Cluster.Index();
        var query = DnsMessages.Query("_pg._tcp.db.default.svc.cluster.local", RecordType.Srv);
        var name = new byte[Limits.MaxNameLength];
        Assert.Equal(ParseStatus.Ok, QueryParser.Parse(query, name, out var parsed));
        var keptAnswersOnly = false;
        for (var size = 60; size < 400; size++)
        {
            var buffer = new byte[size + EdnsOpt.Length];
            var builder = new ResponseBuilder(buffer.AsSpan(0, size));
            Podnet.Dns.Resolution.Resolver.Resolve(index, parsed, name, ref builder);
            var length = builder.Finish(Limits.MaxMessageLength, edns: false);
            var response = DnsMessages.Decode(buffer.AsSpan(0, length));
            Assert.True(response.Truncated ? response.Answers.Length == 0 : response.Answers.Length == 2, $"buffer {size}");
            keptAnswersOnly |= !response.Truncated && response.Additional.Length == 0;
        }
        Assert.True(keptAnswersOnly);
    }
}
