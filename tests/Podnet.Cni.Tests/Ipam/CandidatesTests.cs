using System.Net;
using Podnet.Cni.Config;
using Podnet.Cni.Ipam;

namespace Podnet.Cni.Tests.Ipam;

public sealed class CandidatesTests
{
    private static IpRange Range(string subnet, string start, string end, string? gw) =>
        new(IPNetwork.Parse(subnet), IPAddress.Parse(start), IPAddress.Parse(end), gw is null ? null : IPAddress.Parse(gw));

    private static string[] Order(RangeSet set, string? last) =>
        Candidates.Of(set, last is null ? null : IPAddress.Parse(last)).Select(a => a.ToString()).ToArray();

    [Fact]
    public void Fresh_StartsAtRangeStart_SkippingTheGateway() =>
        Assert.Equal(["10.0.0.2", "10.0.0.3", "10.0.0.4"], Order(new RangeSet([Range("10.0.0.0/29", "10.0.0.1", "10.0.0.4", "10.0.0.1")]), null));

    [Fact]
    public void AfterLast_ContinuesAndWrapsAround() =>
        Assert.Equal(["10.0.0.4", "10.0.0.2", "10.0.0.3"], Order(new RangeSet([Range("10.0.0.0/29", "10.0.0.1", "10.0.0.4", "10.0.0.1")]), "10.0.0.3"));

    [Fact]
    public void SeveralRanges_AreWalkedInTurn()
    {
        var set = new RangeSet([Range("10.0.0.0/29", "10.0.0.2", "10.0.0.3", "10.0.0.1"), Range("10.0.1.0/29", "10.0.1.2", "10.0.1.3", "10.0.1.1")]);
        Assert.Equal(["10.0.1.2", "10.0.1.3", "10.0.0.2", "10.0.0.3"], Order(set, "10.0.0.3"));
        Assert.Equal(["10.0.1.3", "10.0.0.2", "10.0.0.3", "10.0.1.2"], Order(set, "10.0.1.2"));
    }

    [Fact]
    public void LastOutsideTheSet_StartsFromTheBeginning() =>
        Assert.Equal("10.0.0.2", Order(new RangeSet([Range("10.0.0.0/24", "10.0.0.2", "10.0.0.9", null)]), "192.168.0.1")[0]);

    [Fact]
    public void HugeIpv6Range_IsLazy() =>
        Assert.Equal("fd00::2", Candidates.Of(new RangeSet([Range("fd00::/64", "fd00::1", "fd00::ffff:ffff:ffff:ffff", "fd00::1")]), null).First().ToString());
}
