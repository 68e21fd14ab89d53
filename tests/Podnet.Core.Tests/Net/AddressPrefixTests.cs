using System.Net;
using Podnet.Core.Net;

namespace Podnet.Core.Tests.Net;

public sealed class AddressPrefixTests
{
    [Theory]
    [InlineData("10.244.1.5/24", "10.244.1.5", 24, "10.244.1.0/24")]
    [InlineData("fd00:10:244:1::5/64", "fd00:10:244:1::5", 64, "fd00:10:244:1::/64")]
    [InlineData("0.0.0.0/0", "0.0.0.0", 0, "0.0.0.0/0")]
    public void Parse_KeepsHostBits_NetworkMasksThem(string text, string address, int length, string network)
    {
        var prefix = AddressPrefix.Parse(text);
        Assert.Equal(IPAddress.Parse(address), prefix.Address);
        Assert.Equal(length, prefix.PrefixLength);
        Assert.Equal(network, prefix.Network.ToString());
        Assert.Equal(text, prefix.ToString());
    }

    [Theory]
    [InlineData("10.244.1.5")]
    [InlineData("10.244.1.5/33")]
    [InlineData("fd00::1/129")]
    [InlineData("/24")]
    [InlineData("10.244.1.5/-1")]
    [InlineData("10.244.1.5/ 24")]
    [InlineData("fe80::1%2/64")]
    [InlineData("")]
    public void TryParse_RejectsWhatIsNotAnAddressWithAPrefix(string text)
    {
        Assert.False(AddressPrefix.TryParse(text, out _));
        var e = Assert.Throws<FormatException>(() => AddressPrefix.Parse(text));
        Assert.Contains($"'{text}'", e.Message);
    }
}
