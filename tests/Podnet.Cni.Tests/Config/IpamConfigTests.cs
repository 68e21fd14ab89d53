using Podnet.Cni.Config;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Tests.Config;

public sealed class IpamConfigTests
{
    private static IpamConfig Parse(string ipam, string extra = "", CniEnvironment? env = null) =>
        IpamConfigParser.Parse(NetConfParser.Decode($$"""{"cniVersion":"1.0.0","name":"n1","ipam":{{ipam}}{{extra}}}"""), env ?? TestEnv.Of());

    private static CniException Fails(string ipam) => Assert.Throws<CniException>(() => Parse(ipam));

    [Fact]
    public void Ipv4Defaults_FollowHostLocal()
    {
        var r = Parse("""{"ranges":[[{"subnet":"10.0.0.0/24"}]],"dataDir":"/d"}""").RangeSets[0].Ranges[0];
        Assert.Equal("10.0.0.1", r.Start.ToString());
        Assert.Equal("10.0.0.254", r.End.ToString());
        Assert.Equal("10.0.0.1", r.Gateway!.ToString());
        Assert.Equal((UInt128)253, r.Size);
    }

    [Fact]
    public void Ipv6Defaults_IncludeTheLastAddress()
    {
        var r = Parse("""{"ranges":[[{"subnet":"fd00::/120"}]]}""").RangeSets[0].Ranges[0];
        Assert.Equal("fd00::ff", r.End.ToString());
        Assert.Equal("fd00::1", r.Gateway!.ToString());
    }

    [Fact]
    public void LegacyFlatKeys_MakeOneRangeSet()
    {
        var c = Parse("""{"subnet":"10.1.0.0/16","rangeStart":"10.1.5.10","rangeEnd":"10.1.5.20","gateway":"10.1.0.254","routes":[{"dst":"0.0.0.0/0"}]}""");
        var r = Assert.Single(Assert.Single(c.RangeSets).Ranges);
        Assert.Equal("10.1.5.10", r.Start.ToString());
        Assert.Equal((UInt128)11, r.Size);
        Assert.Equal("0.0.0.0/0", Assert.Single(c.Routes).Destination.ToString());
        Assert.Equal(IpamConfig.DefaultDataDir, c.DataDir);
    }

    [Theory]
    [InlineData("""{"ranges":[[{"subnet":"10.0.0.0/33"}]]}""", "subnet")]
    [InlineData("""{"ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.1.5"}]]}""", "rangeStart 10.0.1.5 is not inside subnet")]
    [InlineData("""{"ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.0.9","rangeEnd":"10.0.0.5"}]]}""", "after rangeEnd")]
    [InlineData("""{"ranges":[[{"subnet":"10.0.0.0/31"}]]}""", "too small")]
    [InlineData("""{"ranges":[[{"subnet":"10.0.0.0/24"}],[{"subnet":"10.0.0.128/25"}]]}""", "overlap")]
    [InlineData("""{"ranges":[[{"subnet":"10.0.0.0/24"},{"subnet":"fd00::/64"}]]}""", "mixes IPv4 and IPv6")]
    [InlineData("""{}""", "no ranges")]
    [InlineData("""{"subnet":"10.0.0.0/24","dataDir":"relative"}""", "dataDir")]
    [InlineData("""{"subnet":"10.0.0.0/24","routes":[{"dst":"0.0.0.0/0","gw":"fd00::1"}]}""", "same family")]
    public void Invalid_IsCode7NamingTheKey(string ipam, string message)
    {
        var e = Fails(ipam);
        Assert.Equal(CniErrorCode.InvalidConfig, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void RuntimeIpRanges_ReplaceTheConfiguredRanges()
    {
        var c = Parse("""{"ranges":[[{"subnet":"10.0.0.0/24"}]]}""", ""","runtimeConfig":{"ipRanges":[[{"subnet":"10.9.0.0/24"}]]}""");
        Assert.Equal("10.9.0.0/24", c.RangeSets[0].Ranges[0].Subnet.ToString());
    }

    [Fact]
    public void RequestedIps_FromArgsThenCniArgs()
    {
        var env = TestEnv.Of(args: "IP=10.0.0.7");
        Assert.Equal("10.0.0.7", Assert.Single(Parse("""{"subnet":"10.0.0.0/24"}""", env: env).RequestedIps).ToString());
        Assert.Equal("10.0.0.8", Assert.Single(Parse("""{"subnet":"10.0.0.0/24"}""", ""","args":{"cni":{"ips":["10.0.0.8/24"]}}""", env).RequestedIps).ToString());
    }
}
