using System.Text.Json.Nodes;
using Podnet.Cni.Client;
using Podnet.Cni.IntegrationTests.Infrastructure;
using Podnet.Cni.Spec;

namespace Podnet.Cni.IntegrationTests;

/// <summary>
/// podnet-cni when it is not first in a chain: prevResult on ADD is passed through and ours is
/// appended (spec 1.1 section 5), CHECK reads only our part of it.
/// </summary>
public sealed class ChainTests
{
    /// <summary>What a plugin before us (here: a loopback-like one) would have returned, as a runtime passes it.</summary>
    private static JsonNode PreviousResult(TestNamespace pod) => JsonNode.Parse($$$"""
        {"cniVersion":"1.0.0",
         "interfaces":[{"name":"lo","mac":"00:00:00:00:00:00","sandbox":"{{{pod.Netns.Path}}}"}],
         "ips":[{"interface":0,"address":"127.0.0.1/8"}],
         "routes":[{"dst":"192.168.50.0/24","gw":"127.0.0.1"}],
         "dns":{"nameservers":["10.96.0.10"]}}
        """)!;

    [PrivilegedFact]
    public void FixedPrevResultOnStdin_IsKeptFirst_OursIsAppendedWithItsIndex_CheckAndDelUseOurPart()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf(extra: ""","isDefaultGateway":true""");
        var result = lab.Add(pod, CniLab.WithPrevResult(conf, PreviousResult(pod)), "c1");

        var names = result["interfaces"]!.AsArray().Select(i => (string)i!["name"]!).ToArray();
        Assert.Equal(["lo", "pn0", names[2], "eth0"], names);
        Assert.StartsWith("veth", names[2]);
        Assert.Equal(pod.Netns.Path, (string?)result["interfaces"]![3]!["sandbox"]);
        Assert.Equal(["127.0.0.1/8@0", "10.99.0.2/24@3"], result["ips"]!.AsArray().Select(ip => $"{ip!["address"]}@{ip["interface"]}"));
        Assert.Equal(["192.168.50.0/24", "0.0.0.0/0"], result["routes"]!.AsArray().Select(r => (string?)r!["dst"]));
        Assert.Equal("10.96.0.10", (string?)result["dns"]!["nameservers"]![0]);
        // The kernel got our address only, on eth0.
        var onEth0 = Tools.Ip(pod.Netns, "-4", "addr", "show", "eth0")[0]!["addr_info"]!.AsArray().Select(a => (string)a!["local"]!).ToArray();
        Assert.Equal(["10.99.0.2"], onEth0);

        // CHECK with the final result: the other plugin's route via lo is not ours to check.
        var checkConf = CniLab.WithPrevResult(conf, result);
        lab.Run("CHECK", checkConf, "c1", pod.Netns.Path).Ok();

        // A prevResult that no longer gives eth0 its address, or gives it one not reserved: CHECK fails.
        var dropped = result.DeepClone().AsObject();
        dropped["ips"] = new JsonArray(dropped["ips"]!.AsArray()[0]!.DeepClone());
        Assert.Contains("no address on interface eth0", (string?)lab.Run("CHECK", CniLab.WithPrevResult(conf, dropped), "c1", pod.Netns.Path).Error(103)["msg"]);
        var extra = result.DeepClone().AsObject();
        extra["ips"]!.AsArray().Add(JsonNode.Parse("""{"interface":3,"address":"10.99.0.9/24"}"""));
        Assert.Contains("10.99.0.9", (string?)lab.Run("CHECK", CniLab.WithPrevResult(conf, extra), "c1", pod.Netns.Path).Error(103)["msg"]);

        lab.Del(pod, checkConf, "c1");
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(pod.Netns, "link", "show", "type", "veth"));
    }

    [PrivilegedFact]
    public void PrevResultThatIsNotAResult_IsADecodeError_BeforeAnythingIsMade()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var bad = JsonNode.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"not-an-address"}]}""")!;
        Assert.Contains("not-an-address", (string?)lab.Run("ADD", CniLab.WithPrevResult(lab.Conf(), bad), "c1", pod.Netns.Path).Error(6)["msg"]);
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(pod.Netns, "link", "show", "type", "veth"));
    }

    /// <summary>A real chain through Podnet's CNI client: Debian's loopback, then podnet-cni, then Debian's tuning.</summary>
    [PrivilegedFact]
    public void LoopbackThenPodnetThenTuning_ThroughTheClient_AddCheckDel()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var ours = JsonNode.Parse(lab.Conf("1.0.0", extra: ""","isDefaultGateway":true"""))!.AsObject();
        ours.Remove("cniVersion");
        ours.Remove("name");
        var list = NetworkConfigList.Parse(new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = "t",
            ["plugins"] = new JsonArray(
                JsonNode.Parse("""{"type":"loopback"}"""),
                ours,
                JsonNode.Parse("""{"type":"tuning","sysctl":{"net.ipv4.conf.eth0.arp_notify":"1"}}""")),
        }.ToJsonString());
        var runtime = new RuntimeConf("c1", pod.Netns.Path, "eth0");
        var client = new CniClient([PluginBinary.Directory, "/usr/lib/cni"], Path.Combine(lab.Dir, "cache"));

        var (_, result) = lab.Node.Netns.Run(() => client.Add(list, runtime));
        Assert.Equal("lo", result.Interfaces![0].Name);
        Assert.Equal("eth0", result.Interfaces[3].Name);
        Assert.Equal(["127.0.0.1/8@0", "::1/128@0", "10.99.0.2/24@3"], result.Ips!.Select(ip => $"{ip.Address}@{ip.Interface}"));
        Assert.Equal("1", lab.Exec(pod, "cat", "/proc/sys/net/ipv4/conf/eth0/arp_notify").StandardOutput.Trim());
        Assert.True(lab.Exec(pod, "ping", "-c1", "-W2", "10.99.0.1").Success);
        Assert.True(lab.Exec(pod, "ping", "-c1", "-W2", "127.0.0.1").Success);

        lab.Node.Netns.Run(() => client.Check(list, runtime));
        lab.Exec(pod, "ip", "route", "del", "default");
        var e = Assert.Throws<CniException>(() => lab.Node.Netns.Run(() => client.Check(list, runtime)));
        Assert.Contains("route 0.0.0.0/0", e.Message);

        lab.Node.Netns.Run(() => client.Del(list, runtime));
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(pod.Netns, "link", "show", "type", "veth"));
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
    }

    [PrivilegedFact]
    public void StandalonePodnetIpam_Check_ComparesPrevResultsAddressesInItsRanges()
    {
        using var lab = new CniLab();
        var conf = $$$"""{"cniVersion":"1.0.0","name":"sa","ipam":{"type":"podnet-ipam","ranges":[[{"subnet":"10.97.0.0/24"}]],"dataDir":"{{{lab.DataDir}}}"}}""";
        var result = lab.Run("ADD", conf, "c1", "/run/netns/unused", binary: PluginBinary.Ipam).Ok();
        Assert.Null(result["interfaces"]);
        var chained = JsonNode.Parse("""{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/unused"}],"ips":[{"interface":0,"address":"10.97.0.2/24"},{"interface":0,"address":"192.0.2.7/24"}]}""")!;
        lab.Run("CHECK", CniLab.WithPrevResult(conf, chained), "c1", "/run/netns/unused", binary: PluginBinary.Ipam).Ok();
        var wrong = JsonNode.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"10.97.0.3/24"}]}""")!;
        Assert.Contains("10.97.0.2 is reserved for container c1 interface eth0 in network sa but prevResult does not give it", (string?)lab.Run("CHECK", CniLab.WithPrevResult(conf, wrong), "c1", "/run/netns/unused", binary: PluginBinary.Ipam).Error(103)["msg"]);
        lab.Run("DEL", conf, "c1", "", binary: PluginBinary.Ipam).Ok();
    }
}
