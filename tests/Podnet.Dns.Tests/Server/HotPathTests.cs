using System.Diagnostics;
using Podnet.Dns.Server;
using Podnet.Dns.Tests.Resolution;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Server;

/// <summary>The query path from the index allocates nothing: parse, lookup, copy, fit.</summary>
public class HotPathTests
{
    [Theory]
    [InlineData("web.default.svc.cluster.local", RecordType.A)]
    [InlineData("Web.Default.SVC.cluster.local", RecordType.Aaaa)]
    [InlineData("v4only.default.svc.cluster.local", RecordType.Aaaa)]
    [InlineData("www.google.com.default.svc.cluster.local", RecordType.A)]
    [InlineData("_pg._tcp.db.default.svc.cluster.local", RecordType.Srv)]
    [InlineData("20.0.96.10.in-addr.arpa", RecordType.Ptr)]
    [InlineData("alias.default.svc.cluster.local", RecordType.A)]
    public void Answer_FromTheIndex_AllocatesNothing(string name, ushort type)
    {
        var handler = new QueryHandler(new IndexHolder(Cluster.Index()), null, new DnsCounters());
        var query = DnsMessages.Query(name, type, edns: true);
        var response = new byte[QueryHandler.ResponseBufferLength];
        var nameBuffer = new byte[Limits.MaxNameLength];
        for (var i = 0; i < 100; i++)
        {
            handler.Answer(query, response, nameBuffer, udp: true, Stopwatch.GetTimestamp());
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(handler.Answer(query, response, nameBuffer, udp: true, Stopwatch.GetTimestamp()) > 0);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
