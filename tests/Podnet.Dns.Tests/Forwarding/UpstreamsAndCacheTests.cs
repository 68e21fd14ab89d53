using System.Net;
using Podnet.Dns.Forwarding;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Forwarding;

public class UpstreamsAndCacheTests
{
    [Fact]
    public void FromFlags_TakesAddressesPortsAndLists()
    {
        Assert.Equal(
            [new IPEndPoint(IPAddress.Parse("10.0.0.2"), 53), new IPEndPoint(IPAddress.Parse("10.0.0.3"), 5353), new IPEndPoint(IPAddress.Parse("fd00::2"), 53), new IPEndPoint(IPAddress.Parse("fd00::3"), 5353)],
            Upstreams.FromFlags(["10.0.0.2,10.0.0.3:5353", "fd00::2", "[fd00::3]:5353"]));
    }

    [Theory]
    [InlineData("dns.google")]
    [InlineData("10.0.0.2:0")]
    [InlineData("10.0.0.2:99999")]
    public void FromFlags_BadValue_SaysWhich(string value)
    {
        var e = Assert.Throws<FormatException>(() => Upstreams.FromFlags([value]));
        Assert.Contains(value, e.Message);
    }

    [Fact]
    public void FromResolvConf_ReadsNameserverLinesOnly()
    {
        var text = "# comment\nsearch default.svc.cluster.local\nnameserver 172.18.0.254\nnameserver fd00:172:18::fe # second\noptions ndots:5\n";
        Assert.Equal([new IPEndPoint(IPAddress.Parse("172.18.0.254"), 53), new IPEndPoint(IPAddress.Parse("fd00:172:18::fe"), 53)], Upstreams.FromResolvConf(text, "resolv.conf"));
        var e = Assert.Throws<FormatException>(() => Upstreams.FromResolvConf("nameserver\tnot-an-ip\n", "/etc/x"));
        Assert.StartsWith("/etc/x:1:", e.Message);
    }

    private static byte[] Reply(uint ttl, byte rcode = 0, int answers = 1)
    {
        var query = DnsMessages.Query("a.example", RecordType.A);
        var message = query.Concat(Enumerable.Range(0, answers).SelectMany(_ => new byte[] { 0xC0, 12, 0, 1, 0, 1, (byte)(ttl >> 24), (byte)(ttl >> 16), (byte)(ttl >> 8), (byte)ttl, 0, 4, 192, 0, 2, 1 })).ToArray();
        message[2] = 0x81;
        message[3] = (byte)(0x80 | rcode);
        message[7] = (byte)answers;
        return message;
    }

    [Fact]
    public void Cache_KeepsForTheLeastTtl_AndAgesTtls()
    {
        var now = 0L;
        var cache = new ResponseCache(clockMs: () => now);
        Assert.Equal(60u, cache.Set("a.example", RecordType.A, Reply(60)));
        now = 20_000;
        var aged = cache.Get("a.example", RecordType.A)!;
        Assert.Equal(["a.example. 40 A 192.0.2.1"], DnsMessages.Decode(aged).Answers);
        now = 60_000;
        Assert.Null(cache.Get("a.example", RecordType.A));
    }

    [Fact]
    public void Cache_ServFailAndTtlZero_AreNotKept()
    {
        var cache = new ResponseCache();
        Assert.Equal(0u, cache.Set("a.example", RecordType.A, Reply(60, rcode: ResponseCode.ServFail, answers: 0)));
        Assert.Equal(0u, cache.Set("a.example", RecordType.A, Reply(0)));
        Assert.Equal(0u, cache.Set("a.example", RecordType.A, Reply(60, answers: 0)));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Cache_IsBoundedInEntries_LeastRecentlyUsedGoesFirst()
    {
        var cache = new ResponseCache(maxEntries: 2);
        cache.Set("a", RecordType.A, Reply(60));
        cache.Set("b", RecordType.A, Reply(60));
        Assert.NotNull(cache.Get("a", RecordType.A));
        cache.Set("c", RecordType.A, Reply(60));
        Assert.Equal(2, cache.Count);
        Assert.Null(cache.Get("b", RecordType.A));
        Assert.NotNull(cache.Get("a", RecordType.A));
    }

    [Fact]
    public void Cache_IsBoundedInBytes()
    {
        var cache = new ResponseCache(maxBytes: 100);
        cache.Set("a", RecordType.A, Reply(60, answers: 3));
        cache.Set("b", RecordType.A, Reply(60, answers: 3));
        Assert.Equal(1, cache.Count);
        Assert.Equal(0u, cache.Set("c", RecordType.A, Reply(60, answers: 10)));
    }

    [Fact]
    public void Normalize_DropsTheOptAndTheId()
    {
        var reply = Reply(60).Concat(new byte[] { 0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0 }).ToArray();
        reply[11] = 1;
        var normalized = Relay.Normalize(reply)!;
        Assert.Equal(reply.Length - 11, normalized.Length);
        Assert.Equal(0, normalized[0] | normalized[1] | normalized[10] | normalized[11]);
    }
}
