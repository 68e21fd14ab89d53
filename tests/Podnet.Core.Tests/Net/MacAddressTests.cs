using Podnet.Core.Net;

namespace Podnet.Core.Tests.Net;

public sealed class MacAddressTests
{
    [Theory]
    [InlineData("02:42:ac:11:00:02")]
    [InlineData("ff:ff:ff:ff:ff:ff")]
    [InlineData("00:00:00:00:00:00")]
    public void ParseAndPrint_RoundTrip(string text) => Assert.Equal(text, MacAddress.Parse(text).ToString());

    [Fact]
    public void Parse_AcceptsUpperCaseAndSingleDigits() =>
        Assert.Equal("0a:0b:0c:0d:0e:0f", MacAddress.Parse("A:B:C:D:E:F").ToString());

    [Theory]
    [InlineData("02:42:ac:11:00")]
    [InlineData("02:42:ac:11:00:02:03")]
    [InlineData("02-42-ac-11-00-02")]
    [InlineData("zz:42:ac:11:00:02")]
    public void Parse_RejectsMalformed(string text) => Assert.Throws<FormatException>(() => MacAddress.Parse(text));

    [Fact]
    public void LocalFrom_SetsLocallyAdministeredUnicastBits()
    {
        var mac = MacAddress.LocalFrom([0xff, 1, 2, 3, 4, 5]);
        Assert.Equal("fe:01:02:03:04:05", mac.ToString());
    }
}
