using System.Text.Json.Nodes;
using Podnet.Core.Net;
using Podnet.Kernel.Netlink;

namespace Podnet.Kernel.IntegrationTests;

public sealed class LinkTests
{
    [PrivilegedFact]
    public void CreateVeth_WithPeerInAnotherNamespace_MatchesIpLink()
    {
        using var scope = new NetnsScope();
        var host = scope.Create("host");
        var pod = scope.Create("pod");
        var mac = MacAddress.Parse("02:11:22:33:44:55");
        host.Rt.CreateVeth("vethtest0", "eth0", pod.Netns, mtu: 1400, peerMac: mac);

        var hostEnd = host.Rt.GetLink("vethtest0");
        var podEnd = pod.Rt.GetLink("eth0");
        Assert.Equal("veth", hostEnd.Kind);
        Assert.Equal(1400, hostEnd.Mtu);
        Assert.Equal(mac, podEnd.Mac);
        Assert.Equal(hostEnd.Index, podEnd.ParentIndex);

        var ip = Tools.Ip(pod.Netns, "link", "show", "eth0")[0]!;
        Assert.Equal(podEnd.Index, (int)ip["ifindex"]!);
        Assert.Equal("02:11:22:33:44:55", (string)ip["address"]!);
        Assert.Equal(1400, (int)ip["mtu"]!);
        Assert.Null(host.Rt.FindLink("eth0"));
    }

    /// <summary>The one-request form podnet-cni uses: created as a bridge port, up, hairpin set by name, address by index.</summary>
    [PrivilegedFact]
    public void CreateVeth_AsAnUpBridgePort_ThenHairpinByName_AndAddressByIndex_MatchIpAndBridge()
    {
        using var scope = new NetnsScope();
        var node = scope.Create("node");
        var pod = scope.Create("pod");
        node.Rt.CreateBridge("pn0");
        var bridge = node.Rt.GetLink("pn0");
        var mac = MacAddress.Parse("02:00:00:00:01:02");
        node.Rt.CreateVeth("vpod1", "eth0", pod.Netns, mac: mac, masterIndex: bridge.Index, up: true);
        node.Rt.SetBridgePortHairpin("vpod1", true);
        pod.Rt.AddAddress(pod.Rt.IndexOf("eth0"), AddressPrefix.Parse("10.98.0.2/24"));

        var tool = Tools.Bridge(node.Netns, "-d", "link", "show", "dev", "vpod1")[0]!;
        Assert.Equal("pn0", (string)tool["master"]!);
        Assert.True((bool)tool["hairpin"]!);
        var hostEnd = Tools.Ip(node.Netns, "link", "show", "vpod1")[0]!;
        Assert.Contains("UP", ((JsonArray)hostEnd["flags"]!).Select(f => (string)f!));
        Assert.Equal("02:00:00:00:01:02", (string)hostEnd["address"]!);
        Assert.Contains(Tools.Ip(pod.Netns, "addr", "show", "eth0")[0]!["addr_info"]!.AsArray(), a => (string?)a!["local"] == "10.98.0.2");

        node.Rt.SetBridgePortHairpin("vpod1", false);
        Assert.False((bool)Tools.Bridge(node.Netns, "-d", "link", "show", "dev", "vpod1")[0]!["hairpin"]!);
    }

    [PrivilegedFact]
    public void Rename_AndFlags_AreSeenByIpLink()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("flags");
        ns.Rt.CreateVeth("d0", "d0p");
        ns.Rt.SetUp("d0p");
        ns.Rt.Rename("d0", "d1");
        ns.Rt.SetMtu("d1", 1300);
        ns.Rt.SetMac("d1", MacAddress.Parse("02:00:00:00:00:07"));
        ns.Rt.SetUp("d1");

        var link = ns.Rt.GetLink("d1");
        Assert.True(link.Up);
        var ip = Tools.Ip(ns.Netns, "link", "show", "d1")[0]!;
        Assert.Equal(1300, (int)ip["mtu"]!);
        Assert.Equal("02:00:00:00:00:07", (string)ip["address"]!);
        Assert.Contains("UP", ((JsonArray)ip["flags"]!).Select(f => (string)f!));

        ns.Rt.SetDown("d1");
        Assert.False(ns.Rt.GetLink("d1").Up);
        Assert.DoesNotContain("UP", ((JsonArray)Tools.Ip(ns.Netns, "link", "show", "d1")[0]!["flags"]!).Select(f => (string)f!));
    }

    [PrivilegedFact]
    public void Bridge_WithHairpinPort_MatchesBridgeTool()
    {
        using var scope = new NetnsScope();
        var node = scope.Create("node");
        var pod = scope.Create("pod");
        node.Rt.CreateBridge("pn0");
        node.Rt.CreateVeth("vpod0", "eth0", pod.Netns);
        node.Rt.SetMaster("vpod0", "pn0");
        node.Rt.SetBridgePort("vpod0", hairpin: true, learning: false);
        node.Rt.SetUp("pn0");
        node.Rt.SetUp("vpod0");

        var bridge = node.Rt.GetLink("pn0");
        var port = node.Rt.GetLink("vpod0");
        Assert.Equal("bridge", bridge.Kind);
        Assert.Equal(false, bridge.VlanFiltering);
        Assert.Equal(bridge.Index, port.MasterIndex);
        Assert.Equal(new BridgePortInfo(Hairpin: true, Learning: false), port.BridgePort);

        var tool = Tools.Bridge(node.Netns, "-d", "link", "show", "dev", "vpod0")[0]!;
        Assert.Equal("pn0", (string)tool["master"]!);
        Assert.True((bool)tool["hairpin"]!);
        Assert.False((bool)tool["learning"]!);

        node.Rt.SetMaster("vpod0", null);
        Assert.Null(node.Rt.GetLink("vpod0").MasterIndex);
    }

    [PrivilegedFact]
    public void MoveTo_AnotherNamespace_WithNewName()
    {
        using var scope = new NetnsScope();
        var a = scope.Create("a");
        var b = scope.Create("b");
        a.Rt.CreateVeth("mv0", "mv0p");
        a.Rt.SetUp("mv0p");
        a.Rt.MoveTo("mv0", b.Netns, "moved0");
        Assert.Null(a.Rt.FindLink("mv0"));
        Assert.Equal("veth", b.Rt.GetLink("moved0").Kind);
        Assert.Single(Tools.Ip(b.Netns, "link", "show", "moved0"));
    }

    [PrivilegedFact]
    public void Vxlan_ReadsBackAsIpDetailsShowIt()
    {
        using var scope = new NetnsScope();
        var node = scope.Create("vx");
        node.Rt.CreateVeth("under0", "under0p");
        node.Rt.SetUp("under0p");
        node.Rt.AddAddress("under0", AddressPrefix.Parse("172.18.0.2/24"));
        node.Rt.CreateVxlan("vxlan0", 42, System.Net.IPAddress.Parse("172.18.0.2"), "under0", mtu: 1450);

        var link = node.Rt.GetLink("vxlan0");
        Assert.Equal("vxlan", link.Kind);
        Assert.Equal(1450, link.Mtu);
        Assert.Equal(42u, link.Vxlan!.Vni);
        Assert.Equal(4789, link.Vxlan.Port);
        Assert.False(link.Vxlan.Learning);
        Assert.Equal(node.Rt.IndexOf("under0"), link.Vxlan.UnderlayIndex);

        var data = Tools.Ip(node.Netns, "-d", "link", "show", "vxlan0")[0]!["linkinfo"]!["info_data"]!;
        Assert.Equal(42, (int)data["id"]!);
        Assert.Equal(4789, (int)data["port"]!);
        Assert.Equal("172.18.0.2", (string)data["local"]!);
    }

    [PrivilegedFact]
    public void DeleteLink_IsIdempotent_AndErrorsNameTheLink()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("del");
        ns.Rt.CreateVeth("gone0", "gone0p");
        ns.Rt.SetUp("gone0p");
        var e = Assert.Throws<KernelException>(() => ns.Rt.CreateVeth("gone0", "gone1"));
        Assert.True(e.IsExists);
        Assert.Contains("gone0", e.Message);
        Assert.Equal(17, e.Errno);
        Assert.True(ns.Rt.DeleteLink("gone0"));
        Assert.False(ns.Rt.DeleteLink("gone0"));
        Assert.Null(ns.Rt.FindLink("gone0"));
    }

    [PrivilegedFact]
    public void CreateLink_WithOverlongName_IsRefusedBeforeTheKernel()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("long");
        var e = Assert.Throws<ArgumentException>(() => ns.Rt.CreateBridge("a-name-of-16-chr"));
        Assert.Contains("a-name-of-16-chr", e.Message);
    }

    [PrivilegedFact]
    public void GetLinks_ListsEveryLinkIpListsToo()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("all");
        ns.Rt.CreateVeth("x0", "x0p");
        ns.Rt.SetUp("x0p");
        ns.Rt.CreateBridge("br0");
        var ours = ns.Rt.GetLinks().Select(l => l.Name).Order().ToArray();
        var theirs = Tools.Ip(ns.Netns, "link", "show").Select(l => (string)l!["ifname"]!).Order().ToArray();
        Assert.Equal(theirs, ours);
    }
}
