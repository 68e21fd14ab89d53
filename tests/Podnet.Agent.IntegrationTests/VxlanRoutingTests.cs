using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Podnet.Agent.Routing;
using Podnet.Core.Cluster;
using Podnet.Core.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;
using Podnet.Lab.Topology;

namespace Podnet.Agent.IntegrationTests;

/// <summary>
/// The VXLAN overlay planned from Node records and applied on a real three-node lab topology.
/// Pods are wired by hand (bridge + veth with the overlay's MTU), standing in for the CNI plugin.
/// </summary>
public sealed class VxlanRoutingTests
{
    [PrivilegedFact]
    public void Vxlan_PodsReachAcrossNodes_FullSizeDontFragmentPasses_EntriesFollowTheNodes()
    {
        var lab = "t" + Guid.NewGuid().ToString("N")[..8];
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 3 });
        var pods = new List<Netns>();
        try
        {
            LabBuilder.Up(plan);
            var nodes = plan.Nodes.Select((n, i) => new NodeInfo(n.Name, [n.Address.Address], [IPNetwork.Parse($"10.244.{i + 1}.0/24")], VxlanPlanner.MacFor(n.Name))).ToArray();
            var mtu = 0;
            for (var i = 0; i < nodes.Length; i++)
            {
                using var node = Netns.Open(plan.Nodes[i].Netns);
                using var rt = RtNetlink.Open(node);
                var vxlan = VxlanPlanner.Build(nodes[i], plan.Nodes[i].Address.Address, rt.GetLink("eth0").Mtu, nodes);
                mtu = vxlan.Mtu;
                VxlanApplier.Apply(rt, vxlan, "eth0");
                VxlanApplier.Apply(rt, vxlan, "eth0"); // a repeated sync changes nothing and fails nothing
                pods.Add(HandWiredPods.Add(rt, lab, i + 1, vxlan.Mtu));

                var link = rt.GetLink(VxlanPlanner.Device);
                Assert.Equal(1450, link.Mtu);
                Assert.Equal(VxlanPlanner.MacFor(nodes[i].Name), link.Mac);
                Assert.Equal(2, rt.GetFdb(link.Index).Count(f => f.Self && f.Destination is not null));
                Assert.Equal(2, rt.GetRoutes(AddressFamily.InterNetwork).Count(r => r.OnLink && r.LinkIndex == link.Index));
            }

            // Across nodes, with the largest packet the overlay's MTU allows and don't-fragment set.
            var payload = (mtu - 28).ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var target in new[] { "10.244.2.10", "10.244.3.10" })
            {
                var ping = Tools.Run(pods[0], "ping", "-c", "1", "-W", "3", "-M", "do", "-s", payload, target);
                Assert.True(ping.Success, ping.StandardOutput + ping.StandardError);
            }
            // One byte more does not fit and is refused at the sender, not silently dropped.
            var tooBig = Tools.Run(pods[0], "ping", "-c", "1", "-W", "2", "-M", "do", "-s", (mtu - 27).ToString(System.Globalization.CultureInfo.InvariantCulture), "10.244.2.10");
            Assert.False(tooBig.Success);

            // The packets really went through the overlay: the device counted them.
            using var n1 = Netns.Open(plan.Nodes[0].Netns);
            var stats = Tools.Ip(n1, "-s", "link", "show", VxlanPlanner.Device)[0]!["stats64"]!["tx"]!;
            Assert.True((long)stats["packets"]! >= 2);

            // Node n3 leaves: n1 drops its route, neighbour and FDB entry.
            using var rt1 = RtNetlink.Open(n1);
            VxlanApplier.Apply(rt1, VxlanPlanner.Build(nodes[0], plan.Nodes[0].Address.Address, 1500, nodes[..2]), "eth0");
            var index = rt1.IndexOf(VxlanPlanner.Device);
            Assert.Single(rt1.GetFdb(index), f => f.Self && f.Destination is not null);
            Assert.DoesNotContain(rt1.GetRoutes(AddressFamily.InterNetwork), r => r.Destination.ToString() == "10.244.3.0/24");
            Assert.DoesNotContain(rt1.GetNeighbours(index), n => n.Address.Equals(IPAddress.Parse("10.244.3.0")));
            Assert.False(Tools.Run(pods[0], "ping", "-c", "1", "-W", "1", "10.244.3.10").Success);
            Assert.True(Tools.Run(pods[0], "ping", "-c", "1", "-W", "3", "10.244.2.10").Success);
        }
        finally
        {
            HandWiredPods.Remove(pods);
            LabBuilder.Down(lab);
        }
    }

    [PrivilegedFact]
    public void Vxlan_CarriesPodsAcrossRoutedSubnets()
    {
        var lab = "t" + Guid.NewGuid().ToString("N")[..8];
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 2, Routing = RoutingMode.Vxlan, NodeSubnets = new Dictionary<string, int> { ["n2"] = 1 } });
        var pods = new List<Netns>();
        try
        {
            LabBuilder.Up(plan);
            var nodes = plan.Nodes.Select((n, i) => new NodeInfo(n.Name, [n.Address.Address], [IPNetwork.Parse($"10.244.{i + 1}.0/24")], VxlanPlanner.MacFor(n.Name))).ToArray();
            for (var i = 0; i < nodes.Length; i++)
            {
                using var node = Netns.Open(plan.Nodes[i].Netns);
                using var rt = RtNetlink.Open(node);
                var vxlan = VxlanPlanner.Build(nodes[i], plan.Nodes[i].Address.Address, rt.GetLink("eth0").Mtu, nodes);
                VxlanApplier.Apply(rt, vxlan, "eth0");
                pods.Add(HandWiredPods.Add(rt, lab, i + 1, vxlan.Mtu));
            }
            var ping = Tools.Run(pods[0], "ping", "-c", "1", "-W", "3", "-M", "do", "-s", "1422", "10.244.2.10");
            Assert.True(ping.Success, ping.StandardOutput + ping.StandardError);
        }
        finally
        {
            HandWiredPods.Remove(pods);
            LabBuilder.Down(lab);
        }
    }
}
