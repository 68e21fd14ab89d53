using Podnet.Cni.IntegrationTests.Infrastructure;
using Podnet.Kernel;

namespace Podnet.Cni.IntegrationTests;

/// <summary>Every well-known error code, as the spec's JSON on stdout with a message naming what is wrong.</summary>
public sealed class ErrorCodeTests
{
    [PrivilegedFact]
    public void Code1_IncompatibleVersion_AlsoForVerbsNewerThanTheConfig()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        Assert.Contains("0.2.0", (string?)lab.Run("ADD", lab.Conf("0.2.0"), "c1", pod.Netns.Path).Error(1)["msg"]);
        Assert.Contains("GC needs cniVersion 1.1.0", (string?)lab.Run("GC", CniLab.With(lab.Conf("1.0.0"), "cni.dev/valid-attachments", new System.Text.Json.Nodes.JsonArray())).Error(1)["msg"]);
        Assert.Contains("STATUS needs", (string?)lab.Run("STATUS", lab.Conf("0.4.0")).Error(1)["msg"]);
    }

    [PrivilegedFact]
    public void Code2_UnsupportedField_NamesKeyAndValue()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var error = lab.Run("ADD", lab.Conf(extra: ""","vlanTrunk":[{"id":7}]"""), "c1", pod.Netns.Path).Error(2);
        Assert.Contains("vlanTrunk", (string?)error["msg"]);
        Assert.Contains("FOO=1", (string?)lab.Run("ADD", lab.Conf(), "c1", pod.Netns.Path, args: "FOO=1").Error(2)["msg"]);
        Assert.Empty(lab.Reservations());
    }

    /// <summary>This kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): vlan must be refused clearly, not half-applied.</summary>
    [PrivilegedFact]
    public void Vlan_OnAKernelWithoutBridgeVlanFiltering_IsCode2_AndLeaksNothing()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var outcome = lab.Run("ADD", lab.Conf(extra: ""","vlan":10"""), "c1", pod.Netns.Path);
        if (outcome.ExitCode == 0)
        {
            // A kernel with VLAN filtering: the port must carry VLAN 10 as PVID.
            Assert.Contains("\"vlan\":10", Tools.Run(lab.Node.Netns, "bridge", "-j", "vlan", "show").StandardOutput);
            return;
        }
        Assert.Contains("vlan=10 needs bridge VLAN filtering", (string?)outcome.Error(2)["msg"]);
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
    }

    [PrivilegedFact]
    public void Code3_UnknownContainer_OnCheckOfAMissingNamespace()
    {
        using var lab = new CniLab();
        var conf = CniLab.WithPrevResult(lab.Conf(), System.Text.Json.Nodes.JsonNode.Parse("""{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/pn-gone"}],"ips":[]}""")!);
        Assert.Contains("pn-gone", (string?)lab.Run("CHECK", conf, "c1", "/run/netns/pn-gone").Error(3)["msg"]);
    }

    [PrivilegedTheory]
    [InlineData("CNI_CONTAINERID", null, "CNI_CONTAINERID is not set")]
    [InlineData("CNI_CONTAINERID", "bad/id", "CNI_CONTAINERID=bad/id")]
    [InlineData("CNI_IFNAME", null, "CNI_IFNAME is not set")]
    [InlineData("CNI_NETNS", null, "CNI_NETNS is not set")]
    [InlineData("CNI_NETNS", "/run/netns/pn-nope", "CNI_NETNS=/run/netns/pn-nope does not exist")]
    [InlineData("CNI_COMMAND", "BOGUS", "CNI_COMMAND=BOGUS")]
    [InlineData("CNI_ARGS", "justakey", "justakey")]
    public void Code4_InvalidEnvironment_NamesTheVariable(string variable, string? value, string message)
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var outcome = lab.Run("ADD", lab.Conf(), "c1", pod.Netns.Path, overrides: new() { [variable] = value });
        Assert.Contains(message, (string?)outcome.Error(4)["msg"]);
        Assert.Empty(lab.Reservations());
    }

    [PrivilegedFact]
    public void Code5_IoFailure_WhenTheDataDirCannotBeCreated()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var file = Path.Combine(lab.Dir, "a-file");
        File.WriteAllText(file, "");
        var conf = lab.Conf().Replace(lab.DataDir, file + "/sub", StringComparison.Ordinal);
        lab.Run("ADD", conf, "c1", pod.Netns.Path).Error(5);
        Assert.Empty(Tools.Ip(pod.Netns, "link", "show", "type", "veth"));
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
    }

    [PrivilegedTheory]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("""{"cniVersion":"1.0.0","name":"t","mtu":"large","ipam":{"type":"podnet-ipam"}}""")]
    public void Code6_DecodeFailure(string stdin)
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        lab.Run("ADD", stdin, "c1", pod.Netns.Path).Error(6);
    }

    [PrivilegedTheory]
    [InlineData(""","promiscMode":true""", "", "hairpinMode and promiscMode")]
    [InlineData("", ""","routes":[{"dst":"nowhere"}]""", "ipam.routes[0].dst")]
    [InlineData("", ""","gateway":"10.98.0.1" """, "gateway")]
    public void Code7_InvalidConfig_NamesTheKey(string extra, string ipamExtra, string message)
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = ipamExtra.Contains("gateway", StringComparison.Ordinal)
            ? lab.Conf(ranges: """[[{"subnet":"10.99.0.0/24","gateway":"10.98.0.1"}]]""")
            : lab.Conf(extra: extra, ipamExtra: ipamExtra);
        Assert.Contains(message, (string?)lab.Run("ADD", conf, "c1", pod.Netns.Path).Error(7)["msg"]);
    }

    [PrivilegedFact]
    public void Code11_TryAgainLater_WhileAGcHoldsTheStore()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf(ipamExtra: ""","lockTimeoutMs":100""");
        Directory.CreateDirectory(Path.Combine(lab.DataDir, "t"));
        using (FileLock.Acquire(Path.Combine(lab.DataDir, "t", "lock"), exclusive: true, TimeSpan.Zero))
        {
            Assert.Contains("try again later", (string?)lab.Run("ADD", conf, "c1", pod.Netns.Path).Error(11)["msg"]);
        }
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        lab.Add(pod, conf, "c1");
    }

    [PrivilegedFact]
    public void Code50_And51_FromStatus()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf("1.1.0", ranges: """[[{"subnet":"10.99.0.0/30"}]]""");
        lab.Run("STATUS", conf).Ok();
        lab.Add(pod, conf, "c1");
        Assert.Contains("no free address", (string?)lab.Run("STATUS", conf).Error(50)["msg"]);
        Assert.Contains("no free address left", (string?)lab.Run("ADD", conf, "c2", lab.NewPod().Netns.Path).Error(102)["msg"]);
        lab.Exec(lab.Node, "ip", "link", "set", "pn0", "down");
        Assert.Contains("bridge pn0 is down", (string?)lab.Run("STATUS", conf).Error(51)["msg"]);
    }
}
