using Podnet.Core.Nft;

namespace Podnet.Core.Tests.Nft;

public sealed class NftTextTests
{
    private static readonly NftTable T = new(NftFamily.Ip, "podnet-proxy");

    [Fact]
    public void EveryKindAndVerb_RendersAsNftReadsIt()
    {
        var pre = new NftChain("nat-prerouting", new NftHookSpec(NftChainType.Nat, NftHook.Prerouting, -100));
        var fwd = new NftChain("filter-forward", new NftHookSpec(NftChainType.Filter, NftHook.Forward, -110, DropPolicy: true), "guards");
        var svc = new NftChain("service-abc/ns/web");
        var ips = new NftSet("service-ips", "ipv4_addr . inet_proto . inet_service", Value: "verdict", Comment: "ClusterIPs");
        var aff = new NftSet("affinity-x", "ipv4_addr", Flags: NftSetFlags.Dynamic | NftSetFlags.Timeout, Timeout: TimeSpan.FromHours(3));
        var nets = new NftSet("nets", "ipv4_addr", Flags: NftSetFlags.Interval, AutoMerge: true);
        var eps = new NftSet("eps", "ip daddr . th dport . numgen random mod 4", Value: "ip daddr . th dport", TypeOf: true);
        var tx = new NftTransaction()
            .Add(T).Flush(T).Delete(T)
            .Add(T, pre).Add(T, fwd).Add(T, svc).Flush(T, svc).Delete(T, svc)
            .Add(T, ips).Add(T, aff).Add(T, nets).Add(T, eps).Flush(T, ips).Delete(T, nets)
            .AddRule(T, pre.Name, "ip daddr . meta l4proto . th dport vmap @service-ips")
            .AddRule(T, svc.Name, "meta l4proto tcp dnat to 10.244.1.2:8080", "ns/web:http")
            .AddElement(T, ips.Name, "10.96.0.1 . tcp . 443", "goto service-abc/ns/web")
            .AddElement(T, aff.Name, "10.244.1.9", timeout: TimeSpan.FromSeconds(10))
            .Add(T, new NftElement(nets.Name, "10.244.0.0/16", Comment: "pods"))
            .DeleteElement(T, ips.Name, "10.96.0.1 . tcp . 443");
        Assert.Equal("""
            add table ip podnet-proxy
            flush table ip podnet-proxy
            delete table ip podnet-proxy
            add chain ip podnet-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
            add chain ip podnet-proxy filter-forward { type filter hook forward priority -110 ; policy drop ; comment "guards" ; }
            add chain ip podnet-proxy service-abc/ns/web
            flush chain ip podnet-proxy service-abc/ns/web
            delete chain ip podnet-proxy service-abc/ns/web
            add map ip podnet-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIPs" ; }
            add set ip podnet-proxy affinity-x { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
            add set ip podnet-proxy nets { type ipv4_addr ; flags interval ; auto-merge ; }
            add map ip podnet-proxy eps { typeof ip daddr . th dport . numgen random mod 4 : ip daddr . th dport ; }
            flush map ip podnet-proxy service-ips
            delete set ip podnet-proxy nets
            add rule ip podnet-proxy nat-prerouting ip daddr . meta l4proto . th dport vmap @service-ips
            add rule ip podnet-proxy service-abc/ns/web meta l4proto tcp dnat to 10.244.1.2:8080 comment "ns/web:http"
            add element ip podnet-proxy service-ips { 10.96.0.1 . tcp . 443 : goto service-abc/ns/web }
            add element ip podnet-proxy affinity-x { 10.244.1.9 timeout 10s }
            add element ip podnet-proxy nets { 10.244.0.0/16 comment "pods" }
            delete element ip podnet-proxy service-ips { 10.96.0.1 . tcp . 443 }

            """, tx.ToScript());
        Assert.Equal(20, tx.Commands.Count);
    }

    [Theory]
    [InlineData(NftFamily.Ip6, "ip6")]
    [InlineData(NftFamily.Inet, "inet")]
    [InlineData(NftFamily.Bridge, "bridge")]
    [InlineData(NftFamily.Netdev, "netdev")]
    public void Families_AreSpelledAsNftDoes(NftFamily family, string text) =>
        Assert.Equal($"add table {text} t", new NftTransaction().Add(new NftTable(family, "t")).Commands.Single());

    [Theory]
    [InlineData("")]
    [InlineData("9lives")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public void BadNames_AreRefused(string name) =>
        Assert.Throws<ArgumentException>(() => new NftTransaction().Add(new NftTable(NftFamily.Ip, name)).ToScript());

    [Theory]
    [InlineData("accept\nadd table ip evil")]
    [InlineData("accept ; flush ruleset")]
    public void RuleText_CannotCarryASecondCommand(string text) =>
        Assert.Throws<ArgumentException>(() => new NftTransaction().AddRule(T, "c", text).ToScript());

    [Fact]
    public void Comments_WithQuotesAreRefused() =>
        Assert.Throws<ArgumentException>(() => new NftTransaction().AddRule(T, "c", "accept", "say \"hi\"").ToScript());

    [Fact]
    public void ConsecutiveElementsOfOneSet_ShareACommand_UpToTheLimit()
    {
        var tx = new NftTransaction();
        for (var i = 0; i < NftTransaction.ElementsPerCommand + 2; i++)
        {
            tx.AddElement(T, "a", $"10.0.{i / 256}.{i % 256}");
        }
        tx.AddElement(T, "m", "1.2.3.4 . tcp . 80", "goto x").AddElement(T, "m", "1.2.3.5 . tcp . 80", "drop").DeleteElement(T, "m", "1.2.3.4 . tcp . 80").AddElement(T, "m", "1.2.3.6 . tcp . 80", "accept");
        var lines = tx.ToScript().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Equal(NftTransaction.ElementsPerCommand, lines[0].Split(", ").Length);
        Assert.Equal("add element ip podnet-proxy a { 10.0.3.232, 10.0.3.233 }", lines[1]);
        Assert.Equal("add element ip podnet-proxy m { 1.2.3.4 . tcp . 80 : goto x, 1.2.3.5 . tcp . 80 : drop }", lines[2]);
        Assert.Equal("add element ip podnet-proxy m { 1.2.3.6 . tcp . 80 : accept }", lines[4]);
        Assert.Equal(NftTransaction.ElementsPerCommand + 6, tx.Commands.Count);
    }
}
