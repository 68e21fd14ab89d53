using System.Text.Json.Nodes;
using Podnet.Cni.Client;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Tests.Client;

public sealed class ClientTests
{
    private const string List = """
        {"cniVersion":"1.0.0","cniVersions":["0.4.0","1.1.0","7.0.0"],"name":"lab","plugins":[
          {"type":"podnet-cni","bridge":"pn0","custom":{"kept":true},"ipam":{"type":"podnet-ipam"}},
          {"type":"portmap","capabilities":{"portMappings":true}}]}
        """;

    [Fact]
    public void Parse_PicksHighestVersion_AndKeepsPluginsRaw()
    {
        var list = NetworkConfigList.Parse(List);
        Assert.Equal("1.1.0", list.CniVersion);
        Assert.Equal(2, list.Plugins.Count);
        Assert.True((bool)list.Plugins[0]["custom"]!["kept"]!);
    }

    [Fact]
    public void SinglePluginConf_IsWrapped() =>
        Assert.Equal("bridge", (string?)NetworkConfigList.Parse("""{"cniVersion":"0.4.0","name":"n","type":"bridge"}""").Plugins[0]["type"]);

    [Theory]
    [InlineData("""{"cniVersion":"0.2.0","name":"n","plugins":[{"type":"x"}]}""", CniErrorCode.IncompatibleVersion)]
    [InlineData("""{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}""", CniErrorCode.InvalidConfig)]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","plugins":[{}]}""", CniErrorCode.InvalidConfig)]
    [InlineData("""{"cniVersion":""", CniErrorCode.DecodeFailure)]
    public void Parse_Invalid_HasItsCode(string json, int code) =>
        Assert.Equal(code, Assert.Throws<CniException>(() => NetworkConfigList.Parse(json)).Code);

    [Fact]
    public void Inject_AddsVersionNameRuntimeConfigAndPrevResult_DropsCapabilities()
    {
        var list = NetworkConfigList.Parse(List);
        var runtime = new RuntimeConf("c1", "/run/netns/p", "eth0", CapabilityArgs: new Dictionary<string, JsonNode>
        {
            ["portMappings"] = JsonNode.Parse("""[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]""")!,
            ["bandwidth"] = JsonNode.Parse("""{"ingressRate":1000}""")!,
        });
        var prev = JsonNode.Parse("""{"cniVersion":"1.1.0","ips":[]}""");
        var first = CniClient.Inject(list, list.Plugins[0], runtime, null);
        var second = CniClient.Inject(list, list.Plugins[1], runtime, prev);
        Assert.Equal("1.1.0", (string?)first["cniVersion"]);
        Assert.Equal("lab", (string?)first["name"]);
        Assert.Null(first["runtimeConfig"]);
        Assert.Null(first["prevResult"]);
        Assert.Null(second["capabilities"]);
        Assert.Equal(8080, (int)second["runtimeConfig"]!["portMappings"]![0]!["hostPort"]!);
        Assert.Null(second["runtimeConfig"]!["bandwidth"]);
        Assert.NotNull(second["prevResult"]);
    }
}
