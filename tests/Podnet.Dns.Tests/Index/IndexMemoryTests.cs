using System.Net;
using Podnet.Dns.Index;
using Podnet.Dns.Records;

namespace Podnet.Dns.Tests.Index;

/// <summary>Measured alone: the heap's size is process-wide, so no other test may run meanwhile.</summary>
[CollectionDefinition(nameof(IndexMemoryTests), DisableParallelization = true)]
public sealed class IndexMemoryCollection;

[Collection(nameof(IndexMemoryTests))]
public class IndexMemoryTests
{
    /// <summary>bench/dns's model: 10,000 Services, 100 of them headless with 3 endpoints, 2,000 with a named port.</summary>
    internal static DnsSnapshot Model()
    {
        var services = new List<DnsService>();
        var slices = new List<DnsEndpointSlice>();
        var next = 10;
        for (var n = 0; n < 100; n++)
        {
            for (var s = 0; s < 100; s++)
            {
                var port = new DnsPort(s == 0 || s % 5 == 1 ? "http" : null, "TCP", 80);
                if (s == 0)
                {
                    services.Add(new DnsService($"ns-{n}", $"svc-{s}", ServiceKind.Headless, [], [port]));
                    slices.Add(new DnsEndpointSlice($"ns-{n}", $"svc-{s}", [new("http", "TCP", 8080)], [.. Enumerable.Range(0, 3).Select(k => new DnsEndpoint([IPAddress.Parse($"10.244.{n}.{k + 1}")], $"h{k}", true))]));
                    continue;
                }
                services.Add(new DnsService($"ns-{n}", $"svc-{s}", ServiceKind.ClusterIP, [IPAddress.Parse($"10.96.{next / 256}.{next++ % 256}")], [port]));
            }
        }
        return new DnsSnapshot([.. Enumerable.Range(0, 100).Select(n => $"ns-{n}")], services, slices, []);
    }

    [Fact]
    public void Index_Of10000Services_TakesLessThan1200BytesPerService()
    {
        var snapshot = Model();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var index = IndexBuilder.Build(snapshot, new DnsOptions(), 1);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var perService = (after - before) / 10_000.0;
        Assert.True(perService < 1200, $"{perService:F0} bytes per Service ({index.NameCount} names)");
        GC.KeepAlive(index);
    }
}
