using Podnet.Cni.IntegrationTests.Infrastructure;

namespace Podnet.Cni.IntegrationTests;

public sealed class FamilyTests
{
    [PrivilegedFact]
    public void Ipv6Only_PodGetsAddressAndDefaultRoute_AndReachesTheGateway()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf(extra: ""","isDefaultGateway":true""", ranges: """[[{"subnet":"fd00:99::/64"}]]""");
        var result = lab.Add(pod, conf, "c1");
        Assert.Equal("fd00:99::2/64", (string?)result["ips"]![0]!["address"]);
        var addresses = Tools.Ip(pod.Netns, "-6", "addr", "show", "eth0")[0]!["addr_info"]!.AsArray();
        Assert.Contains(addresses, a => (string?)a!["local"] == "fd00:99::2" && a["tentative"] is null);
        Assert.Contains(Tools.Ip(pod.Netns, "-6", "route", "show", "default"), r => (string?)r!["gateway"] == "fd00:99::1");
        Assert.Equal("1", lab.Exec(lab.Node, "cat", "/proc/sys/net/ipv6/conf/all/forwarding").StandardOutput.Trim());
        Assert.True(lab.Exec(pod, "ping", "-6", "-c1", "-W3", "fd00:99::1").Success);
        lab.Del(pod, conf, "c1");
        Assert.Empty(lab.Reservations());
    }

    [PrivilegedFact]
    public void DualStack_OneAddressOfEachFamily_BothReachable()
    {
        using var lab = new CniLab();
        var a = lab.NewPod("a");
        var b = lab.NewPod("b");
        var conf = lab.Conf("1.1.0", extra: ""","isDefaultGateway":true""", ranges: """[[{"subnet":"10.99.0.0/24"}],[{"subnet":"fd00:99::/64"}]]""");
        var ra = lab.Add(a, conf, "a");
        lab.Add(b, conf, "b");
        Assert.Equal(["10.99.0.2/24", "fd00:99::2/64"], ra["ips"]!.AsArray().Select(i => (string)i!["address"]!));
        Assert.Equal(["0.0.0.0/0", "::/0"], ra["routes"]!.AsArray().Select(r => (string)r!["dst"]!));
        Assert.True(lab.Exec(a, "ping", "-c1", "-W2", "10.99.0.3").Success);
        Assert.True(lab.Exec(a, "ping", "-6", "-c1", "-W3", "fd00:99::3").Success);
        lab.Run("CHECK", CniLab.WithPrevResult(conf, ra), "a", a.Netns.Path).Ok();
        lab.Del(a, conf, "a");
        lab.Del(b, conf, "b");
        Assert.Empty(lab.Reservations());
    }
}
