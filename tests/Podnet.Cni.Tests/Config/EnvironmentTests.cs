using Podnet.Cni.Config;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Tests.Config;

public sealed class EnvironmentTests
{
    private static CniException Fails(Func<string, string?> get) => Assert.Throws<CniException>(() => CniEnvironment.Read(get));

    [Theory]
    [InlineData(null, "CNI_COMMAND is not set")]
    [InlineData("FROB", "CNI_COMMAND=FROB")]
    public void BadCommand_IsCode4(string? command, string message)
    {
        var e = Fails(k => k == "CNI_COMMAND" ? command : null);
        Assert.Equal(CniErrorCode.InvalidEnvironment, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Add_WithoutNetns_IsCode4NamingIt()
    {
        var e = Assert.Throws<CniException>(() => TestEnv.Of(netns: null));
        Assert.Equal(4, e.Code);
        Assert.Contains("CNI_NETNS", e.Message);
    }

    [Fact]
    public void Del_WithoutNetns_IsFine() => Assert.Null(TestEnv.Of("DEL", netns: "").NetnsPath);

    [Theory]
    [InlineData("-abc", "CNI_CONTAINERID")]
    [InlineData("a/b", "CNI_CONTAINERID")]
    public void BadContainerId_IsCode4(string id, string name) =>
        Assert.Contains(name, Assert.Throws<CniException>(() => TestEnv.Of(containerId: id)).Message);

    [Fact]
    public void BadIfName_IsCode4() =>
        Assert.Equal(4, Assert.Throws<CniException>(() => TestEnv.Of(ifName: "a-name-of-16-chr")).Code);

    [Fact]
    public void Version_NeedsOnlyTheCommand() => Assert.Equal("VERSION", CniEnvironment.Read(k => k == "CNI_COMMAND" ? "VERSION" : null).Command);

    [Fact]
    public void CniArgs_Parsed_UnknownKeyIsCode2_UnlessIgnoreUnknown()
    {
        Assert.Equal("10.0.0.9", TestEnv.Of(args: "IP=10.0.0.9;K8S_POD_NAME=x").Args["IP"]);
        var e = Assert.Throws<CniException>(() => TestEnv.Of(args: "FOO=bar"));
        Assert.Equal(CniErrorCode.UnsupportedField, e.Code);
        Assert.Contains("FOO=bar", e.Message);
        Assert.Equal("bar", TestEnv.Of(args: "IgnoreUnknown=1;FOO=bar").Args["FOO"]);
        Assert.Equal(4, Assert.Throws<CniException>(() => TestEnv.Of(args: "novalue")).Code);
    }
}
