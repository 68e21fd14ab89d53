using System.Net;
using Podnet.Dns.Index;
using Podnet.Dns.Records;
using Podnet.Dns.Resolution;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Resolution;

/// <summary>The model cluster the resolver tables run against, and a way to ask it.</summary>
internal static class Cluster
{
    public const uint Serial = 1234;

    public static DnsSnapshot Snapshot()
    {
        static IPAddress Ip(string text) => IPAddress.Parse(text);
        static DnsEndpoint Ready(string ip, string? hostname = null) => new([Ip(ip)], hostname, true);
        var services = new List<DnsService>
        {
            new("default", "web", ServiceKind.ClusterIP, [Ip("10.96.0.20"), Ip("fd00:10:96::20")], [new("http", "TCP", 80), new("metrics", "TCP", 9090)]),
            new("default", "v4only", ServiceKind.ClusterIP, [Ip("10.96.0.30")], [new("dns", "UDP", 53)]),
            new("default", "v6only", ServiceKind.ClusterIP, [Ip("fd00:10:96::40")], [new(null, "TCP", 80)]),
            new("default", "plain", ServiceKind.ClusterIP, [Ip("10.96.0.50")], [new(null, "TCP", 80)]),
            new("default", "db", ServiceKind.Headless, [], [new("pg", "TCP", 5432)]),
            new("default", "empty", ServiceKind.Headless, [], [new("pg", "TCP", 5432)]),
            new("default", "unready", ServiceKind.Headless, [], [], PublishNotReadyAddresses: true),
            new("default", "ext", ServiceKind.ExternalName, [], [], ExternalName: "example.com"),
            new("default", "alias", ServiceKind.ExternalName, [], [], ExternalName: "web.default.svc.cluster.local."),
            new("other", "web", ServiceKind.ClusterIP, [Ip("10.96.1.20")], []),
        };
        var slices = new List<DnsEndpointSlice>
        {
            new("default", "db", [new("pg", "TCP", 15432)], [Ready("10.244.1.5", "db-0"), Ready("10.244.2.6"), new([Ip("10.244.3.7")], null, false)]),
            new("default", "db", [new("pg", "TCP", 15432)], [Ready("fd00:10:244:1::5", "db-0")]),
            new("default", "empty", [new("pg", "TCP", 5432)], [new([Ip("10.244.3.8")], null, false)]),
            new("default", "unready", [], [new([Ip("10.244.4.8")], null, false)]),
        };
        var pods = new List<DnsPod> { new("default", "db-0", [Ip("10.244.1.5"), Ip("fd00:10:244:1::5")]) };
        return new DnsSnapshot(["default", "other", "quiet"], services, slices, pods);
    }

    public static RecordIndex Index(PodsMode pods = PodsMode.Insecure, uint ttl = 30) =>
        IndexBuilder.Build(Snapshot(), new DnsOptions { Pods = pods, Ttl = ttl }, Serial);

    /// <summary>Resolves one query; the response is finished for TCP (no size limit) unless <paramref name="limit"/> says otherwise.</summary>
    public static (ResolveOutcome Outcome, Decoded Response) Ask(IRecordIndex index, byte[] message, int limit = Limits.MaxMessageLength)
    {
        var name = new byte[255];
        Assert.Equal(ParseStatus.Ok, QueryParser.Parse(message, name, out var query));
        var buffer = new byte[Limits.MaxMessageLength + 64];
        var response = new ResponseBuilder(buffer);
        var outcome = Resolver.Resolve(index, query, name, ref response);
        var length = response.Finish(limit, query.HasEdns);
        return (outcome, DnsMessages.Decode(buffer.AsSpan(0, length)));
    }

    public static (ResolveOutcome Outcome, Decoded Response) Ask(IRecordIndex index, string name, ushort type) => Ask(index, DnsMessages.Query(name, type));
}
