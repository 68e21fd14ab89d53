using System.Net;
using System.Text.Json.Nodes;
using Podnet.Core.Net;

namespace Podnet.Kernel.IntegrationTests;

public sealed class NftConntrackTests
{
    [PrivilegedFact]
    public void Apply_Transaction_IsVisibleInNftJson()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("nft");
        Nft.Apply(ns.Netns, """
            add table inet podnet-test
            add chain inet podnet-test out { type filter hook output priority -110 ; }
            add rule inet podnet-test out ip daddr 10.96.0.0/16 counter accept
            """);
        var json = JsonNode.Parse(Nft.ListJson(ns.Netns))!["nftables"]!.AsArray();
        Assert.Contains(json, n => n!["table"]?["name"]?.GetValue<string>() == "podnet-test");
        Assert.Contains(json, n => n!["chain"]?["name"]?.GetValue<string>() == "out" && n["chain"]!["prio"]!.GetValue<int>() == -110);
        Assert.Contains("ip daddr 10.96.0.0/16", Nft.ListText(ns.Netns, "inet", "podnet-test"));
    }

    [PrivilegedFact]
    public void Apply_BadScript_SurfacesNftErrorAndChangesNothing()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("nftbad");
        var e = Assert.Throws<NftException>(() => Nft.Apply(ns.Netns, """
            add table inet podnet-test
            add chain inet podnet-test out { type filter hook output priority dstnat ; }
            """));
        // nft 1.0.6 rejects the named priority on output; the text says so.
        Assert.Contains("priority", e.Message);
        Assert.DoesNotContain("podnet-test", Nft.ListText(ns.Netns));
        Assert.NotNull(Nft.Check(ns.Netns, "add rule inet missing chain accept"));
    }

    [PrivilegedFact]
    public void Conntrack_ListsAndDeletesEntriesOfTheNamespace()
    {
        using var scope = new NetnsScope();
        var a = scope.Create("cta");
        var b = scope.Create("ctb");
        a.Rt.CreateVeth("va", "vb", b.Netns);
        a.Rt.AddAddress("va", AddressPrefix.Parse("10.200.0.1/24"));
        b.Rt.AddAddress("vb", AddressPrefix.Parse("10.200.0.2/24"));
        a.Rt.SetUp("va");
        b.Rt.SetUp("vb");
        // Conntrack tracks a namespace's flows only once a rule there uses it.
        Nft.Apply(a.Netns, """
            add table inet cttest
            add chain inet cttest out { type filter hook output priority 0 ; }
            add rule inet cttest out ct state new counter
            """);
        var ping = Tools.Run(a.Netns, "ping", "-c", "1", "-W", "2", "10.200.0.2");
        Assert.True(ping.Success, ping.StandardOutput + ping.StandardError);

        var entries = Conntrack.List(a.Netns);
        var entry = Assert.Single(entries, e => e.Protocol == "icmp" && e.OriginalDestination.Equals(IPAddress.Parse("10.200.0.2")));
        Assert.Equal(IPAddress.Parse("10.200.0.1"), entry.OriginalSource);
        Assert.Equal(IPAddress.Parse("10.200.0.2"), entry.ReplySource);
        Assert.Empty(Conntrack.List(b.Netns));

        Assert.Equal(0, Conntrack.Delete(a.Netns, new ConntrackFilter { OriginalDestination = IPAddress.Parse("10.200.0.99") }));
        Assert.Equal(1, Conntrack.Delete(a.Netns, new ConntrackFilter { OriginalDestination = IPAddress.Parse("10.200.0.2") }));
        Assert.DoesNotContain(Conntrack.List(a.Netns), e => e.OriginalDestination.Equals(IPAddress.Parse("10.200.0.2")));
    }
}
