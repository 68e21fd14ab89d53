using System.Net;
using Podnet.Core.Net;

namespace Podnet.Core.Tests.Net;

public sealed class IpMathTests
{
    [Theory]
    [InlineData("10.244.1.77", 24, "10.244.1.0")]
    [InlineData("10.244.1.77", 0, "0.0.0.0")]
    [InlineData("10.244.1.77", 32, "10.244.1.77")]
    [InlineData("fd00:10:244:1::9", 64, "fd00:10:244:1::")]
    [InlineData("fd00:10:244:1::9", 0, "::")]
    public void Mask_ClearsHostBits(string address, int length, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), IpMath.Mask(IPAddress.Parse(address), length));

    [Theory]
    [InlineData("10.244.1.255", 1, "10.244.2.0")]
    [InlineData("10.244.2.0", -1, "10.244.1.255")]
    [InlineData("255.255.255.255", 1, "0.0.0.0")]
    [InlineData("fd00::ffff", 1, "fd00::1:0")]
    public void Add_CarriesAcrossOctets(string address, int offset, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), IpMath.Add(IPAddress.Parse(address), offset));

    [Theory]
    [InlineData("10.244.1.0/24", "10.244.1.255", 256)]
    [InlineData("10.96.0.0/16", "10.96.255.255", 65536)]
    [InlineData("fd00:10:96::/112", "fd00:10:96::ffff", 65536)]
    public void LastAddressAndSize(string cidr, string last, long size)
    {
        var network = IPNetwork.Parse(cidr);
        Assert.Equal(IPAddress.Parse(last), IpMath.LastAddress(network));
        Assert.Equal((UInt128)size, IpMath.Size(network));
    }

    [Fact]
    public void Size_OfWholeIpv6Space_Saturates() =>
        Assert.Equal(UInt128.MaxValue, IpMath.Size(IPNetwork.Parse("::/0")));

    [Theory]
    [InlineData("10.244.0.0/16", 24, 0, "10.244.0.0/24")]
    [InlineData("10.244.0.0/16", 24, 255, "10.244.255.0/24")]
    [InlineData("10.244.0.0/16", 24, 256, null)]
    [InlineData("fd00:10:244::/56", 64, 3, "fd00:10:244:3::/64")]
    [InlineData("10.244.0.0/16", 8, 0, null)]
    public void Subnet_IndexesNodeCidrs(string cidr, int length, int index, string? expected) =>
        Assert.Equal(expected, IpMath.Subnet(IPNetwork.Parse(cidr), length, index)?.ToString());

    [Theory]
    [InlineData("10.244.0.0/16", "10.244.7.0/24", true)]
    [InlineData("10.244.0.0/16", "10.245.0.0/16", false)]
    [InlineData("10.0.0.0/8", "10.244.0.0/16", true)]
    [InlineData("10.0.0.0/8", "fd00::/8", false)]
    public void Overlaps(string a, string b, bool expected)
    {
        Assert.Equal(expected, IpMath.Overlaps(IPNetwork.Parse(a), IPNetwork.Parse(b)));
        Assert.Equal(expected, IpMath.Overlaps(IPNetwork.Parse(b), IPNetwork.Parse(a)));
    }
}
