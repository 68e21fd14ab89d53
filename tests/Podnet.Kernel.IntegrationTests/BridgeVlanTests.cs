using System.Text.Json.Nodes;

namespace Podnet.Kernel.IntegrationTests;

public sealed class BridgeVlanTests
{
    /// <summary>
    /// This machine's kernel is built without CONFIG_BRIDGE_VLAN_FILTERING (iproute2 gets
    /// EOPNOTSUPP too): there the test checks that the failure says what was refused and why.
    /// </summary>
    [PrivilegedFact]
    public void PortVlan_PvidUntagged_IsWhatBridgeVlanShowReports_OrUnsupportedByThisKernel()
    {
        using var scope = new NetnsScope();
        var node = scope.Create("vlan");
        node.Rt.CreateBridge("br0");
        try
        {
            node.Rt.SetBridgeVlanFiltering("br0", true);
        }
        catch (KernelException e) when (e.Errno == 95)
        {
            Assert.Contains("vlan_filtering 1 on br0", e.Message);
            Assert.Contains("not supported", e.Message);
            Assert.False(Tools.Run(node.Netns, "ip", "link", "set", "br0", "type", "bridge", "vlan_filtering", "1").Success);
            return;
        }
        Assert.Equal(true, node.Rt.GetLink("br0").VlanFiltering);
        node.Rt.CreateVeth("vp0", "vp0p");
        node.Rt.SetMaster("vp0", "br0");
        node.Rt.AddBridgeVlan("vp0", 42, pvid: true, untagged: true);
        Assert.True(node.Rt.DeleteBridgeVlan("vp0", 1));
        Assert.False(node.Rt.DeleteBridgeVlan("vp0", 1));

        var port = Tools.Bridge(node.Netns, "vlan", "show", "dev", "vp0")[0]!;
        var vlans = ((JsonArray)port["vlans"]!).Select(v => v!).ToArray();
        var only = Assert.Single(vlans);
        Assert.Equal(42, (int)only["vlan"]!);
        var flags = ((JsonArray)only["flags"]!).Select(f => (string)f!).ToArray();
        Assert.Contains("PVID", flags);
        Assert.Contains("Egress Untagged", flags);

        node.Rt.SetBridgeVlanFiltering("br0", false);
        Assert.Equal(false, node.Rt.GetLink("br0").VlanFiltering);
    }

    [PrivilegedFact]
    public void SetPromisc_TogglesTheFlagIpShows()
    {
        using var scope = new NetnsScope();
        var node = scope.Create("promisc");
        node.Rt.CreateBridge("br0");
        node.Rt.SetPromisc("br0", true);
        Assert.Contains("PROMISC", Flags(node));
        node.Rt.SetPromisc("br0", false);
        Assert.DoesNotContain("PROMISC", Flags(node));
    }

    private static string[] Flags(TestNamespace ns) =>
        ((JsonArray)Tools.Ip(ns.Netns, "link", "show", "br0")[0]!["flags"]!).Select(f => (string)f!).ToArray();
}
