using System.Text.Json.Nodes;
using Podnet.Cni.Client;
using Podnet.Cni.IntegrationTests.Infrastructure;
using Podnet.Cni.Spec;

namespace Podnet.Cni.IntegrationTests;

/// <summary>
/// Debian's containernetworking-plugins (1.1.1, cniVersion 1.0.0 at most) chained after
/// podnet-cni, run by Podnet's own CNI client inside the node namespace.
/// </summary>
public sealed class InteropTests
{
    private static NetworkConfigList Chain(CniLab lab, string version, string ranges, params string[] extraPlugins)
    {
        var first = JsonNode.Parse(lab.Conf(version, ranges: ranges))!.AsObject();
        first.Remove("cniVersion");
        first.Remove("name");
        var plugins = new JsonArray(first);
        foreach (var p in extraPlugins)
        {
            plugins.Add(JsonNode.Parse(p));
        }
        return NetworkConfigList.Parse(new JsonObject { ["cniVersion"] = version, ["name"] = "t", ["plugins"] = plugins }.ToJsonString());
    }

    private static CniClient Client(CniLab lab) => new([PluginBinary.Directory, "/usr/lib/cni"], Path.Combine(lab.Dir, "cache"));

    /// <summary>
    /// CHECK runs tuning and bandwidth only: portmap 1.1.1's CHECK compares its IPv4 rules with
    /// the ip6tables chain and fails whatever plugin comes first (see the test below).
    /// </summary>
    [PrivilegedFact]
    public void TuningPortmapBandwidth_ChainedAt100_ParseOurResult_AndDelCleansEverything()
    {
        _ = PluginBinary.Cni;
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var list = Chain(lab, "1.0.0", """[[{"subnet":"10.99.0.0/24"}],[{"subnet":"fd00:99::/64"}]]""",
            """{"type":"tuning","sysctl":{"net.ipv4.conf.eth0.arp_notify":"1"}}""",
            """{"type":"portmap","capabilities":{"portMappings":true}}""",
            """{"type":"bandwidth","capabilities":{"bandwidth":true}}""");
        var runtime = new RuntimeConf("c1", pod.Netns.Path, "eth0", "IgnoreUnknown=1;K8S_POD_NAME=p", new Dictionary<string, JsonNode>
        {
            ["portMappings"] = JsonNode.Parse("""[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]""")!,
            ["bandwidth"] = JsonNode.Parse("""{"ingressRate":1000000,"ingressBurst":100000,"egressRate":1000000,"egressBurst":100000}""")!,
        });
        var client = Client(lab);

        var (json, result) = lab.Node.Netns.Run(() => client.Add(list, runtime));
        Assert.Equal("1.0.0", result.CniVersion);
        Assert.Equal("10.99.0.2/24", result.Ips![0].Address);
        var hostVeth = result.Interfaces![1].Name;
        Assert.Equal("1", lab.Exec(pod, "cat", "/proc/sys/net/ipv4/conf/eth0/arp_notify").StandardOutput.Trim());
        Assert.Contains("10.99.0.2:80", lab.Exec(lab.Node, "iptables", "-t", "nat", "-S").StandardOutput);
        Assert.Contains("[fd00:99::2]:80", lab.Exec(lab.Node, "ip6tables", "-t", "nat", "-S").StandardOutput);
        Assert.Contains("tbf", lab.Exec(lab.Node, "tc", "qdisc", "show", "dev", hostVeth).StandardOutput);
        Assert.NotEmpty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "ifb"));
        Assert.Contains("10.99.0.2", json);

        var checkable = Chain(lab, "1.0.0", """[[{"subnet":"10.99.0.0/24"}],[{"subnet":"fd00:99::/64"}]]""",
            """{"type":"tuning","sysctl":{"net.ipv4.conf.eth0.arp_notify":"1"}}""",
            """{"type":"bandwidth","capabilities":{"bandwidth":true}}""");
        lab.Node.Netns.Run(() => client.Check(checkable, runtime));
        lab.Node.Netns.Run(() => client.Del(list, runtime));
        Assert.DoesNotContain("10.99.0.2:80", lab.Exec(lab.Node, "iptables", "-t", "nat", "-S").StandardOutput);
        Assert.DoesNotContain("fd00:99::2", lab.Exec(lab.Node, "ip6tables", "-t", "nat", "-S").StandardOutput);
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "ifb"));
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        Assert.Empty(lab.Reservations());
        lab.Node.Netns.Run(() => client.Del(list, runtime));
    }

    [PrivilegedFact]
    public void PortmapCheck_FailsTheSameBehindDebiansOwnBridge_SoItIsNotOurResult()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var list = NetworkConfigList.Parse($$$"""
            {"cniVersion":"1.0.0","name":"ref","plugins":[
              {"type":"bridge","bridge":"br9","isGateway":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.98.0.0/24"}]],"dataDir":"{{{lab.DataDir}}}"}},
              {"type":"portmap","capabilities":{"portMappings":true}}]}
            """);
        var runtime = new RuntimeConf("r1", pod.Netns.Path, "eth0", null, new Dictionary<string, JsonNode>
        {
            ["portMappings"] = JsonNode.Parse("""[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]""")!,
        });
        var client = Client(lab);
        lab.Node.Netns.Run(() => client.Add(list, runtime));
        var e = Assert.Throws<CniException>(() => lab.Node.Netns.Run(() => client.Check(list, runtime)));
        Assert.Contains("portmap: could not check ipv6 dnat", e.Message);
        lab.Node.Netns.Run(() => client.Del(list, runtime));
    }

    /// <summary>The injected failure: tuning after podnet-cni is given a sysctl that does not exist.</summary>
    [PrivilegedFact]
    public void ChainedStepFailing_LeavesTheAttachment_ForTheRuntimesDel_WhichCleansUp()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var list = Chain(lab, "1.0.0", """[[{"subnet":"10.99.0.0/24"}]]""", """{"type":"tuning","sysctl":{"net.ipv4.conf.eth0.no_such_knob":"1"}}""");
        var runtime = new RuntimeConf("c1", pod.Netns.Path, "eth0");
        var client = Client(lab);
        var e = Assert.Throws<CniException>(() => lab.Node.Netns.Run(() => client.Add(list, runtime)));
        Assert.Contains("tuning", e.Message);
        Assert.Single(lab.Reservations());
        Assert.Empty(Directory.Exists(Path.Combine(lab.Dir, "cache")) ? Directory.GetFiles(Path.Combine(lab.Dir, "cache")) : []);

        // Spec: every ADD is eventually followed by a DEL, also a failed one; there is no cached result.
        lab.Node.Netns.Run(() => client.Del(list, runtime));
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        Assert.Empty(Tools.Ip(pod.Netns, "link", "show", "type", "veth"));
    }

    [PrivilegedFact]
    public void Client_At110_GcSynthesizesDelsAndReleases_StatusReportsExhaustion()
    {
        using var lab = new CniLab();
        var list = NetworkConfigList.Parse(lab.Conf("1.1.0").Replace("10.99.0.0/24", "10.99.0.0/30", StringComparison.Ordinal));
        var client = Client(lab);
        var a = lab.NewPod("a");
        var b = lab.NewPod("b");
        lab.Node.Netns.Run(() => client.Status(list));
        lab.Node.Netns.Run(() => client.Add(list, new RuntimeConf("a", a.Netns.Path, "eth0")));
        var e = Assert.Throws<CniException>(() => lab.Node.Netns.Run(() => client.Status(list)));
        Assert.Equal(CniErrorCode.NotAvailable, e.Code);
        Assert.Contains("podnet-cni: no free address", e.Message);

        lab.Node.Netns.Run(() => client.Gc(list, []));
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(a.Netns, "link", "show", "type", "veth"));
        Assert.Empty(Directory.GetFiles(Path.Combine(lab.Dir, "cache")));

        lab.Node.Netns.Run(() => client.Add(list, new RuntimeConf("b", b.Netns.Path, "eth0")));
        lab.Node.Netns.Run(() => client.Gc(list, [new CniAttachment { ContainerId = "b", IfName = "eth0" }]));
        lab.Node.Netns.Run(() => client.Check(list, new RuntimeConf("b", b.Netns.Path, "eth0")));
        lab.Node.Netns.Run(() => client.Del(list, new RuntimeConf("b", b.Netns.Path, "eth0")));
        Assert.Empty(lab.Reservations());
    }
}
