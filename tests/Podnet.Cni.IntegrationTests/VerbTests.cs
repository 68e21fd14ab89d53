using System.Text.Json.Nodes;
using Podnet.Cni.IntegrationTests.Infrastructure;

namespace Podnet.Cni.IntegrationTests;

/// <summary>Every verb in every negotiated version, checked against the kernel state.</summary>
public sealed class VerbTests
{
    public static TheoryData<string> Versions => new() { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };

    [PrivilegedFact]
    public void Version_AnswersWithTheRequestedVersionAndTheSupportedList_EvenWithPodmansDummyEnvironment()
    {
        using var lab = new CniLab();
        foreach (var v in new[] { "0.3.1", "1.1.0" })
        {
            var answer = lab.Run("VERSION", $$"""{"cniVersion":"{{v}}"}""", "dummy", "dummy", "dummy", path: "dummy").Ok();
            Assert.Equal(v, (string?)answer["cniVersion"]);
            Assert.Equal(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"], answer["supportedVersions"]!.AsArray().Select(x => (string)x!));
        }
        Assert.Equal("1.1.0", (string?)lab.Run("VERSION", "", ifName: null, path: null).Ok()["cniVersion"]);
    }

    [PrivilegedTheory]
    [MemberData(nameof(Versions))]
    public void AddCheckDel_InEveryVersion_WiresThePodAndCleansUp(string version)
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf(version, extra: ""","isDefaultGateway":true""");
        var result = lab.Add(pod, conf, "c1");

        // Result shape of the requested version.
        Assert.Equal(version, (string?)result["cniVersion"]);
        var ip = result["ips"]!.AsArray().Single()!;
        Assert.Equal("10.99.0.2/24", (string?)ip["address"]);
        Assert.Equal("10.99.0.1", (string?)ip["gateway"]);
        Assert.Equal(2, (int)ip["interface"]!);
        Assert.Equal(version.StartsWith("0.", StringComparison.Ordinal) ? "4" : null, (string?)ip["version"]);
        var eth0 = result["interfaces"]!.AsArray()[2]!;
        Assert.Equal("eth0", (string?)eth0["name"]);
        Assert.Equal(pod.Netns.Path, (string?)eth0["sandbox"]);
        Assert.Equal(version == "1.1.0" ? 1500 : null, (int?)eth0["mtu"]);

        // Kernel state, read by iproute2.
        var podLink = Tools.Ip(pod.Netns, "-d", "addr", "show", "eth0")[0]!;
        Assert.Equal((string?)eth0["mac"], (string?)podLink["address"]);
        Assert.Contains(podLink["addr_info"]!.AsArray(), a => (string?)a!["local"] == "10.99.0.2" && (int)a["prefixlen"]! == 24);
        Assert.Contains(Tools.Ip(pod.Netns, "route", "show", "default"), r => (string?)r!["gateway"] == "10.99.0.1");
        var hostVeth = (string)result["interfaces"]!.AsArray()[1]!["name"]!;
        var port = Tools.Bridge(lab.Node.Netns, "-d", "link", "show", "dev", hostVeth)[0]!;
        Assert.Equal("pn0", (string?)port["master"]);
        Assert.True((bool)port["hairpin"]!);
        Assert.Contains(Tools.Ip(lab.Node.Netns, "addr", "show", "pn0")[0]!["addr_info"]!.AsArray(), a => (string?)a!["local"] == "10.99.0.1");
        Assert.Equal("1", lab.Exec(lab.Node, "cat", "/proc/sys/net/ipv4/ip_forward").StandardOutput.Trim());
        Assert.True(lab.Exec(pod, "ping", "-c1", "-W2", "10.99.0.1").Success);

        // CHECK exists from 0.4.0 on; before that it is an incompatible version.
        var check = lab.Run("CHECK", CniLab.WithPrevResult(conf, result), "c1", pod.Netns.Path);
        if (version.StartsWith("0.3", StringComparison.Ordinal))
        {
            check.Error(1);
        }
        else
        {
            check.Ok();
        }

        lab.Del(pod, CniLab.WithPrevResult(conf, result), "c1");
        Assert.Empty(Tools.Ip(pod.Netns, "link", "show", "type", "veth"));
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        Assert.Empty(lab.Reservations());
        lab.Del(pod, conf, "c1");
    }

    [PrivilegedFact]
    public void Del_SucceedsWithEmptyNetns_MissingNetns_AndUnknownContainer_AndReleases()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf();
        lab.Add(pod, conf, "c1");
        Assert.Single(lab.Reservations());
        lab.Run("DEL", conf, "c1", "").Ok(); // containerd sends an empty CNI_NETNS
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        lab.Run("DEL", conf, "c1", "/run/netns/pn-does-not-exist").Ok();
        lab.Run("DEL", conf, "never-added", pod.Netns.Path).Ok();
        lab.Run("DEL", conf, "never-added", netns: null).Ok();
        var masq = conf.Replace("\"ipMasq\":false", "\"ipMasq\":true", StringComparison.Ordinal);
        lab.Run("DEL", CniLab.WithPrevResult(masq, JsonNode.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"bogus"}]}""")!), "c1", "").Ok();
    }

    /// <summary>An ADD refused because CNI_IFNAME exists is followed by the runtime's DEL, which must not take that interface.</summary>
    [PrivilegedFact]
    public void Del_AfterAnAddRefusedWithCode100_LeavesTheForeignInterfaceAlone()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        pod.Rt.CreateVeth("eth0", "other0"); // someone else's eth0, both ends in the pod
        var conf = lab.Conf();
        lab.Run("ADD", conf, "c1", pod.Netns.Path).Error(100);
        lab.Del(pod, conf, "c1");
        Assert.Equal(["eth0", "other0"], Tools.Ip(pod.Netns, "link", "show", "type", "veth").Select(l => (string)l!["ifname"]!).Order());
        Assert.Empty(lab.Reservations());
    }

    [PrivilegedFact]
    public void Check_FindsWhatChangedSinceAdd()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf(extra: ""","isDefaultGateway":true""");
        var checkConf = CniLab.WithPrevResult(conf, lab.Add(pod, conf, "c1"));
        lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Ok();

        lab.Exec(pod, "ip", "route", "del", "default");
        Assert.Contains("route 0.0.0.0/0", (string?)lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Error(103)["msg"]);
        lab.Exec(pod, "ip", "route", "add", "default", "via", "10.99.0.1");
        lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Ok();

        lab.Exec(pod, "ip", "addr", "flush", "dev", "eth0");
        Assert.Contains("10.99.0.2/24 is missing", (string?)lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Error(103)["msg"]);
        lab.Run("CHECK", checkConf, "other", pod.Netns.Path, "eth1").Error(103);
        lab.Run("CHECK", conf, "c1", pod.Netns.Path).Error(7); // no prevResult
    }

    [PrivilegedFact]
    public void Add_SecondTimeForSameInterface_FailsWithoutTouchingTheFirst()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf();
        lab.Add(pod, conf, "c1");
        Assert.Contains("eth0 already exists", (string?)lab.Run("ADD", conf, "c1", pod.Netns.Path).Error(100)["msg"]);
        Assert.Equal(["10.99.0.2"], lab.Reservations());
        // Same container, a second interface: a second address and a second veth.
        var second = lab.Add(pod, conf, "c1", "net1");
        Assert.Equal("10.99.0.3/24", (string?)second["ips"]![0]!["address"]);
        Assert.Equal(2, Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth").Count);
    }

    [PrivilegedFact]
    public void TwoPods_ReachEachOther_AndHairpinIsOn()
    {
        using var lab = new CniLab();
        var a = lab.NewPod("a");
        var b = lab.NewPod("b");
        var conf = lab.Conf();
        lab.Add(a, conf, "a");
        lab.Add(b, conf, "b");
        Assert.True(lab.Exec(a, "ping", "-c1", "-W2", "10.99.0.3").Success);
        Assert.True(lab.Exec(b, "ping", "-c1", "-W2", "10.99.0.2").Success);
    }

    [PrivilegedFact]
    public void Mtu_Mac_AndPromisc_AreApplied()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf("1.1.0", extra: ""","mtu":1400,"promiscMode":true,"hairpinMode":false,"runtimeConfig":{"mac":"02:aa:bb:cc:dd:ee"}""");
        var result = lab.Add(pod, conf, "c1");
        var link = Tools.Ip(pod.Netns, "link", "show", "eth0")[0]!;
        Assert.Equal(1400, (int)link["mtu"]!);
        Assert.Equal("02:aa:bb:cc:dd:ee", (string?)link["address"]);
        Assert.Equal(1400, (int)result["interfaces"]![2]!["mtu"]!);
        Assert.Contains("PROMISC", Tools.Ip(lab.Node.Netns, "link", "show", "pn0")[0]!["flags"]!.AsArray().Select(f => (string)f!));
    }

    [PrivilegedFact]
    public void ForeignAddressOnTheBridge_IsAnError_UnlessForceAddressReplacesIt()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        lab.Node.Rt.CreateBridge("pn0");
        lab.Node.Rt.AddAddress("pn0", Core.Net.AddressPrefix.Parse("10.99.0.254/24"));
        var error = lab.Run("ADD", lab.Conf(), "c1", pod.Netns.Path).Error(7);
        Assert.Contains("10.99.0.254/24", (string?)error["msg"]);
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));

        lab.Add(pod, lab.Conf(extra: ""","forceAddress":true"""), "c1");
        var addresses = Tools.Ip(lab.Node.Netns, "-4", "addr", "show", "pn0")[0]!["addr_info"]!.AsArray().Select(a => (string)a!["local"]!).ToArray();
        Assert.Equal(["10.99.0.1"], addresses);
    }

    [PrivilegedFact]
    public void Check_AlsoSeesTheGatewayAndTheMasquerade()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf(extra: ""","ipMasq":true""").Replace("\"ipMasq\":false,", "", StringComparison.Ordinal);
        var checkConf = CniLab.WithPrevResult(conf, lab.Add(pod, conf, "c1"));
        lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Ok();

        var table = Podnet.Kernel.Nft.ListText(lab.Node.Netns).Split('\n').First(l => l.StartsWith("table inet pncni_", StringComparison.Ordinal)).Split(' ')[2];
        Podnet.Kernel.Nft.Apply(lab.Node.Netns, $"delete element inet {table} pods4 {{ 10.99.0.2 }}\n");
        Assert.Contains("masquerade for 10.99.0.2", (string?)lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Error(103)["msg"]);
        Podnet.Kernel.Nft.Apply(lab.Node.Netns, $"add element inet {table} pods4 {{ 10.99.0.2 }}\n");
        lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Ok();

        lab.Exec(lab.Node, "ip", "addr", "del", "10.99.0.1/24", "dev", "pn0");
        Assert.Contains("gateway 10.99.0.1 is missing", (string?)lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Error(103)["msg"]);
    }
}
