using Podnet.Cni.Config;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Tests.Config;

public sealed class ConfigTests
{
    private const string Ipam = ""","ipam":{"type":"podnet-ipam","ranges":[[{"subnet":"10.244.1.0/24"}]],"dataDir":"/tmp/x"}""";

    private static string Conf(string extra = "", string version = "1.0.0") =>
        $$"""{"cniVersion":"{{version}}","name":"lab","type":"podnet-cni"{{extra}}{{Ipam}}}""";

    private static CniException Fails(string json, CniEnvironment? env = null) => Assert.Throws<CniException>(() => TestEnv.Parse(json, env));

    [Fact]
    public void BridgeKeys_AreRead()
    {
        var c = TestEnv.Parse(Conf(""","bridge":"pn0","isDefaultGateway":true,"ipMasq":false,"mtu":1450,"hairpinMode":true"""));
        Assert.Equal("pn0", c.Bridge);
        Assert.True(c.IsGateway);
        Assert.True(c.IsDefaultGateway);
        Assert.Equal(1450, c.Mtu);
        Assert.True(c.HairpinMode);
        Assert.Equal("podnet-ipam", c.IpamType);
        Assert.NotNull(c.Ipam);
    }

    [Theory]
    [InlineData("""{"cniVersion":"1.0.\ud800","name":"t","type":"podnet-cni"}""")]
    [InlineData("""{"cni\udc00Version":"1.0.0","name":"t","type":"podnet-cni"}""")]
    public void UnpairedSurrogateEscape_IsADecodeFailure(string json)
    {
        // Found by the CNI fuzz run: System.Text.Json throws InvalidOperationException on reading such text.
        var e = Assert.Throws<CniException>(() => NetConfParser.Decode(json));
        Assert.Equal(CniErrorCode.DecodeFailure, e.Code);
        Assert.Contains("unpaired surrogate", e.Message);
    }

    [Fact]
    public void Defaults_AreTheBridgePlugins()
    {
        var c = TestEnv.Parse(Conf());
        Assert.Equal("cni0", c.Bridge);
        Assert.False(c.IsGateway);
        Assert.False(c.IpMasq);
    }

    [Theory]
    [InlineData(""","hairpinMode":true,"promiscMode":true""", "hairpinMode and promiscMode")]
    [InlineData(""","mtu":20""", "mtu 20")]
    [InlineData(""","vlan":5000""", "vlan 5000")]
    [InlineData(""","bridge":"a-name-of-16-chr" """, "a-name-of-16-chr")]
    public void InvalidValues_AreCode7NamingThem(string extra, string message)
    {
        var e = Fails(Conf(extra));
        Assert.Equal(CniErrorCode.InvalidConfig, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData(""","vlanTrunk":[{"id":5}]""", "vlanTrunk")]
    [InlineData(""","ipMasqBackend":"iptables" """, "ipMasqBackend=iptables")]
    [InlineData(""","macspoofchk":true""", "macspoofchk")]
    public void UnsupportedFields_AreCode2NamingKeyAndValue(string extra, string message)
    {
        var e = Fails(Conf(extra));
        Assert.Equal(CniErrorCode.UnsupportedField, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void NotJson_IsCode6() => Assert.Equal(CniErrorCode.DecodeFailure, Fails("{not json").Code);

    [Fact]
    public void WrongType_IsCode6() => Assert.Equal(CniErrorCode.DecodeFailure, Fails(Conf(""","mtu":"big" """)).Code);

    [Theory]
    [InlineData(""","isGateway":"yes" """, "'isGateway' must be true or false, not a string")]
    [InlineData(""","mtu":1500.5""", "'mtu' must be a 32-bit integer, not the number 1500.5")]
    [InlineData(""","mtu":null""", "'mtu' must be a 32-bit integer, not null")]
    [InlineData(""","runtimeConfig":{"ips":[5]}""", "the items of 'ips' must be strings, not the number 5")]
    [InlineData(""","cni.dev/valid-attachments":{}""", "'cni.dev/valid-attachments' must be an array, not an object")]
    [InlineData(""","args":[]""", "'args' must be an object, not an array")]
    public void WrongTypes_AreCode6NamingTheKey(string extra, string message)
    {
        var e = Fails(Conf(extra));
        Assert.Equal(CniErrorCode.DecodeFailure, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void WrongTypeInsideIpam_IsCode6NamingTheKey()
    {
        var e = Fails("""{"cniVersion":"1.0.0","name":"lab","type":"podnet-cni","ipam":{"type":"podnet-ipam","ranges":[{"subnet":"10.0.0.0/24"}]}}""");
        Assert.Equal(CniErrorCode.DecodeFailure, e.Code);
        Assert.Contains("'ranges' must be arrays of ranges", e.Message);
    }

    [Fact]
    public void NotAnObject_IsCode6() => Assert.Equal(CniErrorCode.DecodeFailure, Fails("[1,2]").Code);

    [Fact]
    public void UnknownKeysAndNulls_AreIgnoredAsTheSerializerDid()
    {
        var c = TestEnv.Parse(Conf(""","somethingElse":{"a":[1]},"Bridge":"ignored-case","bridge":null,"dns":null,"preserveDefaultVlan":null"""));
        Assert.Equal("cni0", c.Bridge);
        Assert.Null(c.Dns);
        Assert.True(c.PreserveDefaultVlan);
    }

    [Fact]
    public void PrevResultAndAttachments_AreRead()
    {
        var c = TestEnv.Parse(Conf(""","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]},"cni.dev/attachments":[{"containerID":"c1","ifname":"eth0"}]""", version: "1.1.0"));
        Assert.Equal("10.0.0.2/24", Assert.Single(ResultConverter.Parse(c.PrevResult!.Value).Ips!).Address);
        var a = Assert.Single(c.ValidAttachments!);
        Assert.Equal(("c1", "eth0"), (a.ContainerId, a.IfName));
    }

    [Fact]
    public void OldVersion_IsCode1() => Assert.Equal(CniErrorCode.IncompatibleVersion, Fails(Conf(version: "0.2.0")).Code);

    [Fact]
    public void MissingIpamType_IsCode7() =>
        Assert.Contains("ipam.type", Fails("""{"cniVersion":"1.0.0","name":"lab","type":"podnet-cni","ipam":{}}""").Message);

    [Fact]
    public void BadName_IsCode7() =>
        Assert.Contains("name", Fails("""{"cniVersion":"1.0.0","name":"-x","type":"podnet-cni","ipam":{"type":"host-local"}}""").Message);

    [Fact]
    public void OtherIpamType_IsDelegated_WithoutParsingItsKeys()
    {
        var c = TestEnv.Parse("""{"cniVersion":"1.0.0","name":"lab","type":"podnet-cni","ipam":{"type":"host-local","whatever":1}}""");
        Assert.Equal("host-local", c.IpamType);
        Assert.Null(c.Ipam);
    }

    [Fact]
    public void Mac_FromArgsWinsOverRuntimeConfigAndCniArgs()
    {
        var env = TestEnv.Of(args: "MAC=02:00:00:00:00:03");
        Assert.Equal("02:00:00:00:00:03", TestEnv.Parse(Conf(), env).Mac.ToString());
        Assert.Equal("02:00:00:00:00:02", TestEnv.Parse(Conf(""","runtimeConfig":{"mac":"02:00:00:00:00:02"}"""), env).Mac.ToString());
        Assert.Equal("02:00:00:00:00:01", TestEnv.Parse(Conf(""","args":{"cni":{"mac":"02:00:00:00:00:01"}},"runtimeConfig":{"mac":"02:00:00:00:00:02"}"""), env).Mac.ToString());
        Assert.Equal(7, Fails(Conf(""","runtimeConfig":{"mac":"01:00:00:00:00:02"}""")).Code);
    }

    [Fact]
    public void GcAttachments_AcceptBothKeys()
    {
        var a = TestEnv.Parse(Conf(""","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]"""), TestEnv.Of("GC"));
        var b = TestEnv.Parse(Conf(""","cni.dev/attachments":[{"containerID":"b","ifname":"eth0"}]"""), TestEnv.Of("GC"));
        Assert.Equal("a", Assert.Single(a.ValidAttachments!).ContainerId);
        Assert.Equal("b", Assert.Single(b.ValidAttachments!).ContainerId);
    }
}
