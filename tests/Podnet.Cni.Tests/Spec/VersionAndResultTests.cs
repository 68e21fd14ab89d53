using Podnet.Cni.Spec;

namespace Podnet.Cni.Tests.Spec;

public sealed class VersionAndResultTests
{
    [Theory]
    [InlineData("0.3.0")]
    [InlineData("0.3.1")]
    [InlineData("0.4.0")]
    [InlineData("1.0.0")]
    [InlineData("1.1.0")]
    public void Require_SupportedVersion_ReturnsIt(string version) => Assert.Equal(version, CniVersion.Require(version));

    [Theory]
    [InlineData("0.1.0")]
    [InlineData("0.2.0")]
    [InlineData("2.0.0")]
    [InlineData(null)]
    public void Require_OtherVersion_IsCode1NamingTheVersion(string? version)
    {
        var e = Assert.Throws<CniException>(() => CniVersion.Require(version));
        Assert.Equal(CniErrorCode.IncompatibleVersion, e.Code);
        Assert.Contains(version ?? "no cniVersion", e.Message);
    }

    [Fact]
    public void Highest_PicksTheHighestSupported() =>
        Assert.Equal("1.1.0", CniVersion.Highest(["0.4.0", "1.1.0", "1.0.0", "9.9.9", null]));

    private static CniResult Sample() => new()
    {
        Interfaces = [new CniInterface { Name = "eth0", Mac = "02:00:00:00:00:01", Mtu = 1450, Sandbox = "/run/netns/p" }],
        Ips = [new CniIpConfig { Address = "10.0.0.2/24", Gateway = "10.0.0.1", Interface = 0 }, new CniIpConfig { Address = "fd00::2/64", Interface = 0 }],
        Routes = [new CniRoute { Dst = "0.0.0.0/0", Gw = "10.0.0.1", Mtu = 1400, Priority = 5 }],
    };

    [Fact]
    public void Serialize_031_AddsIpVersionAndDropsNewFields() => Assert.Equal(
        """{"cniVersion":"0.3.1","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/run/netns/p"}],"ips":[{"version":"4","address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0},{"version":"6","address":"fd00::2/64","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}],"dns":{}}""",
        ResultConverter.Serialize(Sample(), "0.3.1"));

    [Fact]
    public void Serialize_100_HasNoIpVersionAndNoMtu() => Assert.Equal(
        """{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/run/netns/p"}],"ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0},{"address":"fd00::2/64","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}]}""",
        ResultConverter.Serialize(Sample(), "1.0.0"));

    [Fact]
    public void Serialize_110_KeepsInterfaceMtuAndRouteFields() => Assert.Equal(
        """{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","mtu":1450,"sandbox":"/run/netns/p"}],"ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0},{"address":"fd00::2/64","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1","mtu":1400,"priority":5}]}""",
        ResultConverter.Serialize(Sample(), "1.1.0"));

    [Fact]
    public void Parse_040Result_ReadsIpsWithVersion()
    {
        var r = ResultConverter.Parse("""{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/16","gateway":"10.1.0.1"}],"dns":{}}""");
        Assert.Equal("10.1.0.5/16", Assert.Single(r.Ips!).Address);
        Assert.Equal("1.0.0", ResultConverter.Convert(r, "1.0.0").CniVersion);
        Assert.Null(ResultConverter.Convert(r, "1.0.0").Ips![0].Version);
    }

    [Theory]
    [InlineData("1.1.0")]
    [InlineData("0.4.0")]
    public void Parse_OfSerialize_GivesTheSameJsonBack(string version)
    {
        var json = ResultConverter.Serialize(Sample(), version);
        Assert.Equal(json, ResultConverter.Serialize(ResultConverter.Parse(json), version));
    }

    [Fact]
    public void Parse_ReadsDnsAndRouteFields()
    {
        var r = ResultConverter.Parse("""{"cniVersion":"1.1.0","routes":[{"dst":"0.0.0.0/0","table":7,"scope":0,"advmss":1400}],"dns":{"nameservers":["10.96.0.10"],"domain":"d","search":["a","b"],"options":["ndots:5"]},"extra":1}""");
        var route = Assert.Single(r.Routes!);
        Assert.Equal((7, 0, 1400), (route.Table, route.Scope, route.AdvMss));
        Assert.Equal(["10.96.0.10"], r.Dns!.Nameservers!);
        Assert.Equal(["a", "b"], r.Dns.Search!);
        Assert.Equal("""{"cniVersion":"1.1.0","routes":[{"dst":"0.0.0.0/0","advmss":1400,"table":7,"scope":0}],"dns":{"nameservers":["10.96.0.10"],"domain":"d","search":["a","b"],"options":["ndots:5"]}}""",
            ResultConverter.Serialize(r, "1.1.0"));
    }

    [Fact]
    public void Parse_WrongTypeOrNull_IsAJsonErrorOrCode6()
    {
        Assert.Contains("'interface' must be a 32-bit integer", Assert.Throws<System.Text.Json.JsonException>(() => ResultConverter.Parse("""{"ips":[{"address":"10.0.0.2/24","interface":"0"}]}""")).Message);
        Assert.Contains("the items of 'ips' must be objects", Assert.Throws<System.Text.Json.JsonException>(() => ResultConverter.Parse("""{"ips":[null]}""")).Message);
        Assert.Equal(CniErrorCode.DecodeFailure, Assert.Throws<CniException>(() => ResultConverter.Parse("null")).Code);
    }

    [Fact]
    public void ErrorAndVersionAnswers_AreTheSpecsShapes()
    {
        Assert.Equal("""{"cniVersion":"1.0.0","code":7,"msg":"bad \u0022x\u0022"}""", CniJson.Write(new CniError { CniVersion = "1.0.0", Code = 7, Msg = "bad \"x\"" }));
        Assert.Equal("""{"cniVersion":"1.1.0","supportedVersions":["0.4.0","1.1.0"]}""", CniJson.Write(new CniVersionInfo { CniVersion = "1.1.0", SupportedVersions = ["0.4.0", "1.1.0"] }));
        using var doc = System.Text.Json.JsonDocument.Parse("""{"cniVersion":"1.0.0","code":11,"msg":"busy","details":"gc"}""");
        var e = CniJson.ReadError(doc.RootElement);
        Assert.Equal((11, "busy", "gc"), (e.Code, e.Msg, e.Details));
    }

    [Fact]
    public void Parse_BadAddress_IsDecodeFailure() =>
        Assert.Equal(CniErrorCode.DecodeFailure, Assert.Throws<CniException>(() => ResultConverter.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5"}]}""")).Code);

    [Fact]
    public void Parse_020Result_IsIncompatible() =>
        Assert.Equal(CniErrorCode.IncompatibleVersion, Assert.Throws<CniException>(() => ResultConverter.Parse("""{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24"}}""")).Code);

    [Fact]
    public void ToError_MapsExceptionKindsToCodes()
    {
        Assert.Equal(6, Program.ToError(new System.Text.Json.JsonException("x")).Code);
        Assert.Equal(5, Program.ToError(new IOException("disk")).Code);
        Assert.Equal(11, Program.ToError(new TimeoutException("slow")).Code);
        Assert.Equal(999, Program.ToError(new Podnet.Kernel.KernelException("add route", 101)).Code);
        Assert.Equal(7, Program.ToError(new CniException(7, "bad")).Code);
    }
}
