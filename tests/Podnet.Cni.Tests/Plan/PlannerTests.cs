using System.Net;
using Podnet.Cni.Plan;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Tests.Plan;

public sealed class PlannerTests
{
    private const string Conf = """{"cniVersion":"1.1.0","name":"lab","type":"podnet-cni","bridge":"pn0","isDefaultGateway":true,"ipMasq":true,"hairpinMode":true,"ipam":{"type":"host-local"}}""";

    private static CniResult Ipam() => new()
    {
        Ips = [new CniIpConfig { Address = "10.244.1.5/24", Gateway = "10.244.1.1" }, new CniIpConfig { Address = "fd00:10:244:1::5/64", Gateway = "fd00:10:244:1::1" }],
        Routes = [new CniRoute { Dst = "10.96.0.0/16" }],
    };

    [Fact]
    public void DefaultGateway_AddsDefaultRoutesPerFamily_AndIpamRoutesUseTheGateway()
    {
        var plan = AttachmentPlanner.Build(TestEnv.Parse(Conf), TestEnv.Of(), Ipam());
        Assert.Equal(
            ["10.96.0.0/16 via 10.244.1.1", "0.0.0.0/0 via 10.244.1.1", "::/0 via fd00:10:244:1::1"],
            plan.ContainerRoutes.Select(r => $"{r.Destination} via {r.Gateway}"));
        Assert.Equal(["10.244.1.1/24", "fd00:10:244:1::1/64"], plan.BridgeAddresses.Select(a => a.ToString()));
        Assert.Equal(["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"], plan.HostSysctls.Select(s => s.Key));
        Assert.True(plan.Hairpin);
        Assert.True(plan.NoDad);
        Assert.Equal(AttachmentPlanner.HostVethName("lab", "c1", "eth0"), plan.HostVeth);
        Assert.Equal(12, plan.HostVeth.Length);
    }

    [Fact]
    public void WithoutGateway_NothingOnTheBridgeAndNoForwarding()
    {
        var plan = AttachmentPlanner.Build(TestEnv.Parse(Conf.Replace("\"isDefaultGateway\":true", "\"isGateway\":false")), TestEnv.Of(), Ipam());
        Assert.Empty(plan.BridgeAddresses);
        Assert.Empty(plan.HostSysctls);
        Assert.Single(plan.ContainerRoutes);
    }

    [Fact]
    public void HostVethName_DiffersPerNetworkContainerAndInterface()
    {
        var names = new[] { ("a", "c", "eth0"), ("b", "c", "eth0"), ("a", "d", "eth0"), ("a", "c", "net1") }
            .Select(t => AttachmentPlanner.HostVethName(t.Item1, t.Item2, t.Item3)).ToArray();
        Assert.Equal(4, names.Distinct().Count());
    }

    [Fact]
    public void Result_PutsAddressesOnTheContainerInterface()
    {
        var config = TestEnv.Parse(Conf);
        var plan = AttachmentPlanner.Build(config, TestEnv.Of(), Ipam());
        var result = AttachmentPlanner.BuildResult(plan, config, new LinkFacts(null, null, Podnet.Core.Net.MacAddress.Parse("02:00:00:00:00:09"), 1500));
        Assert.Equal(["pn0", plan.HostVeth, "eth0"], result.Interfaces!.Select(i => i.Name));
        Assert.Equal("/run/netns/x", result.Interfaces![2].Sandbox);
        Assert.All(result.Ips!, ip => Assert.Equal(2, ip.Interface));
    }

    [Fact]
    public void Result_InAChain_KeepsPrevResultFirst_AndPointsOurIpsPastIt()
    {
        var config = TestEnv.Parse(Conf);
        var plan = AttachmentPlanner.Build(config, TestEnv.Of(), Ipam());
        var previous = new CniResult
        {
            Interfaces = [new CniInterface { Name = "lo", Sandbox = "/run/netns/x" }],
            Ips = [new CniIpConfig { Address = "127.0.0.1/8", Interface = 0 }],
            Routes = [new CniRoute { Dst = "10.96.0.0/16", Gw = "10.244.1.1" }, new CniRoute { Dst = "192.168.0.0/16", Gw = "127.0.0.1" }],
            Dns = new CniDns { Nameservers = ["10.96.0.10"] },
        };
        var result = AttachmentPlanner.BuildResult(plan, config, new LinkFacts(null, null, null, 1500), previous);
        Assert.Equal(["lo", "pn0", plan.HostVeth, "eth0"], result.Interfaces!.Select(i => i.Name));
        Assert.Equal(["127.0.0.1/8@0", "10.244.1.5/24@3", "fd00:10:244:1::5/64@3"], result.Ips!.Select(ip => $"{ip.Address}@{ip.Interface}"));
        // 10.96.0.0/16 via 10.244.1.1 is in both: once.
        Assert.Equal(["10.96.0.0/16", "192.168.0.0/16", "0.0.0.0/0", "::/0"], result.Routes!.Select(r => r.Dst));
        Assert.Equal(["10.96.0.10"], result.Dns!.Nameservers!);
        Assert.Equal(3, AttachmentPlanner.ContainerInterfaceIndex(result, "eth0", "/run/netns/x"));
        Assert.Equal(["10.244.1.5/24", "fd00:10:244:1::5/64"], AttachmentPlanner.OwnIps(result, "eth0", null).Select(ip => ip.Address));
        Assert.Empty(AttachmentPlanner.OwnIps(result, "eth0", "/run/netns/other"));
    }

    [Fact]
    public void Masquerade_GoldenText()
    {
        var plan = new MasqueradePlan("lab", [IPAddress.Parse("10.244.1.5"), IPAddress.Parse("fd00::5")], [IPNetwork.Parse("10.244.1.0/24")]);
        var t = "inet " + MasqueradeRules.TableName("lab");
        Assert.Equal(
            $"""
            add table {t}
            add chain {t} postrouting {"{"} type nat hook postrouting priority 100 ; {"}"}
            add set {t} pods4 {"{"} type ipv4_addr ; {"}"}
            add set {t} pods6 {"{"} type ipv6_addr ; {"}"}
            add set {t} nets4 {"{"} type ipv4_addr ; flags interval ; auto-merge ; {"}"}
            add set {t} nets6 {"{"} type ipv6_addr ; flags interval ; auto-merge ; {"}"}
            flush chain {t} postrouting
            add rule {t} postrouting ip saddr @pods4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade
            add rule {t} postrouting ip6 saddr @pods6 ip6 daddr != @nets6 ip6 daddr != ff00::/8 masquerade
            add element {t} pods4 {"{"} 10.244.1.5 {"}"}
            add element {t} pods6 {"{"} fd00::5 {"}"}
            add element {t} nets4 {"{"} 10.244.1.0/24 {"}"}

            """, MasqueradeRules.BuildAdd(plan));
        Assert.Equal($"delete element {t} pods6 {"{"} fd00::5 {"}"}\n", Assert.Single(MasqueradeRules.BuildRemove("lab", [IPAddress.Parse("fd00::5")])));
        Assert.True(MasqueradeRules.TableName("lab").Length <= 15);
    }
}
