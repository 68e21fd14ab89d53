using Podnet.Cni.IntegrationTests.Infrastructure;
using Podnet.Kernel;

namespace Podnet.Cni.IntegrationTests;

public sealed class RollbackAndMasqueradeTests
{
    /// <summary>The injected failure: an IPAM route through a gateway that is not on-link makes the route step fail after the veth and addresses exist.</summary>
    [PrivilegedTheory]
    [InlineData("podnet-ipam")]
    [InlineData("host-local")]
    public void FailureAfterIpamAdd_RollsBackVethAndReleasesTheAddress(string ipamType)
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf(ipamType: ipamType, ipamExtra: ""","routes":[{"dst":"192.168.0.0/16","gw":"10.50.0.1"}]""");
        var error = lab.Run("ADD", conf, "c1", pod.Netns.Path).Error(999);
        Assert.Contains("192.168.0.0/16 via 10.50.0.1", (string?)error["msg"]);
        Assert.Empty(Tools.Ip(pod.Netns, "link", "show", "type", "veth"));
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        Assert.Empty(lab.Reservations());
        // The runtime's DEL after a failed ADD still succeeds.
        lab.Del(pod, conf, "c1");
    }

    [PrivilegedFact]
    public void DelegatedHostLocal_AtVersion100_AllocatesAndReleases()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var conf = lab.Conf("1.0.0", ipamType: "host-local");
        var result = lab.Add(pod, conf, "c1");
        Assert.Equal("10.99.0.2/24", (string?)result["ips"]![0]!["address"]);
        Assert.Equal(2, (int)result["ips"]![0]!["interface"]!);
        Assert.Equal(["10.99.0.2"], lab.Reservations());
        Assert.StartsWith("c1", File.ReadAllText(Path.Combine(lab.DataDir, "t", "10.99.0.2")));
        lab.Run("CHECK", CniLab.WithPrevResult(conf, result), "c1", pod.Netns.Path).Ok();
        lab.Del(pod, CniLab.WithPrevResult(conf, result), "c1");
        Assert.Empty(lab.Reservations());
    }

    [PrivilegedFact]
    public void DelegatedIpamMissingFromCniPath_IsCode7()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        Assert.Contains("not-a-plugin not found in CNI_PATH", (string?)lab.Run("ADD", lab.Conf(ipamType: "not-a-plugin"), "c1", pod.Netns.Path).Error(7)["msg"]);
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
    }

    /// <summary>
    /// The outside namespace has no route back to the pod subnet: the pod reaches it only when
    /// its traffic leaves the node masqueraded as the node's address.
    /// </summary>
    [PrivilegedFact]
    public void IpMasq_InTheNodeNamespace_LetsThePodReachOutside_AndDelRemovesIt()
    {
        using var lab = new CniLab();
        var pod = lab.NewPod();
        var outside = lab.NewPod("out");
        lab.Node.Rt.CreateVeth("uplink", "eth0", outside.Netns);
        lab.Node.Rt.AddAddress("uplink", Core.Net.AddressPrefix.Parse("192.168.200.2/24"));
        lab.Node.Rt.SetUp("uplink");
        outside.Rt.AddAddress("eth0", Core.Net.AddressPrefix.Parse("192.168.200.1/24"));
        outside.Rt.SetUp("eth0");

        var plain = lab.Conf(extra: ""","isDefaultGateway":true""");
        lab.Add(pod, plain, "c1");
        Assert.False(lab.Exec(pod, "ping", "-c1", "-W1", "192.168.200.1").Success);
        lab.Del(pod, plain, "c1");

        var masq = plain.Replace("\"ipMasq\":false", "\"ipMasq\":true", StringComparison.Ordinal);
        lab.Add(pod, masq, "c1");
        Assert.True(lab.Exec(pod, "ping", "-c1", "-W2", "192.168.200.1").Success);
        var table = Nft.ListText(lab.Node.Netns);
        Assert.Contains("masquerade", table);
        Assert.Contains("10.99.0.3", table);
        lab.Del(pod, masq, "c1");
        Assert.DoesNotContain("10.99.0.3", Nft.ListText(lab.Node.Netns));
    }
}
