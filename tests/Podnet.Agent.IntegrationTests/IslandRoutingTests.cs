using System.Net;
using System.Net.Sockets;
using Podnet.Agent.Routing;
using Podnet.Agent.TestServer;
using Podnet.Core.Cluster;
using Podnet.Core.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;
using Podnet.Lab.Topology;

namespace Podnet.Agent.IntegrationTests;

/// <summary>
/// host-gw routes and island masquerade, planned from Node records and applied on a real lab
/// topology. The pods here are wired by hand (bridge + veth), standing in for the CNI plugin.
/// </summary>
public sealed class IslandRoutingTests
{
    [PrivilegedFact]
    public async Task HostGw_PodsReachAcrossNodes_WithTheirOwnAddresses_OutsideSeesTheNode()
    {
        var lab = "t" + Guid.NewGuid().ToString("N")[..8];
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 2 });
        var pods = new List<Netns>();
        try
        {
            LabBuilder.Up(plan);
            var nodes = plan.Nodes.Select((n, i) => new NodeInfo(n.Name, [n.Address.Address], [IPNetwork.Parse($"10.244.{i + 1}.0/24")])).ToArray();
            for (var i = 0; i < nodes.Length; i++)
            {
                using var node = Netns.Open(plan.Nodes[i].Netns);
                using var rt = RtNetlink.Open(node);
                pods.Add(AddPod(node, rt, lab, i + 1));
                Assert.Equal(1, RouteApplier.Apply(rt, HostGwPlanner.Build(nodes[i].Name, nodes)));
                Assert.Equal(0, RouteApplier.Apply(rt, HostGwPlanner.Build(nodes[i].Name, nodes)));
                var masquerade = MasqueradePlanner.Build([IPNetwork.Parse("10.244.0.0/16")], [IPNetwork.Parse("10.96.0.0/16")]).ToScript();
                Nft.Apply(node, masquerade);
                Nft.Apply(node, masquerade);
                Assert.Single(Tools.Run(node, "nft", "list", "table", "inet", MasqueradePlanner.Table).StandardOutput.Split('\n'), l => l.Contains("masquerade"));
            }
            using var outside = Netns.Open(plan.Outside.Netns);
            await using var servers = new TestServerHost();
            servers.Add("pod2", new TestServerSpec("pod2", [8080], []), pods[1]);
            servers.Add("outside", new TestServerSpec("outside", [8080], []), outside);

            // Pod to pod across nodes: the server sees the client pod's own address.
            var clientIp = Tools.Run(pods[0], "curl", "-sS", "--max-time", "5", "http://10.244.2.10:8080/clientip");
            Assert.True(clientIp.Success, clientIp.StandardError);
            Assert.StartsWith("10.244.1.10:", clientIp.StandardOutput);
            // Pod to outside: masqueraded to the node's fabric address.
            var seen = Tools.Run(pods[0], "curl", "-sS", "--max-time", "5", "http://172.18.0.1:8080/clientip");
            Assert.StartsWith($"{plan.Nodes[0].Address.Address}:", seen.StandardOutput);
            // Outside to pod: the outside host has no route to pod addresses.
            var probe = await outside.Run(() => ConnectProbe.RunAsync("10.244.2.10", 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(1)));
            Assert.NotEqual(ConnectOutcome.Connected, probe.Outcome);

            // A node leaving the cluster takes its route with it.
            using (var n1 = Netns.Open(plan.Nodes[0].Netns))
            using (var rt1 = RtNetlink.Open(n1))
            {
                Assert.Equal(1, RouteApplier.Apply(rt1, HostGwPlanner.Build("n1", [nodes[0]])));
                Assert.DoesNotContain(rt1.GetRoutes(AddressFamily.InterNetwork), r => r.Protocol == RouteApplier.Protocol);
            }
        }
        finally
        {
            pods.ForEach(p => { p.Dispose(); Netns.Delete(p.Name!); });
            LabBuilder.Down(lab);
        }
    }

    /// <summary>A pod at 10.244.N.10 behind bridge pn0 (10.244.N.1) on node N.</summary>
    private static Netns AddPod(Netns node, RtNetlink rt, string lab, int n)
    {
        rt.CreateBridge("pn0");
        rt.AddAddress("pn0", AddressPrefix.Parse($"10.244.{n}.1/24"));
        rt.SetUp("pn0");
        var pod = Netns.Create($"pn-t{lab}-pod{n}");
        using var podRt = RtNetlink.Open(pod);
        rt.CreateVeth("vpod", "eth0", pod);
        rt.SetMaster("vpod", "pn0");
        rt.SetUp("vpod");
        podRt.SetUp("lo");
        podRt.AddAddress("eth0", AddressPrefix.Parse($"10.244.{n}.10/24"));
        podRt.SetUp("eth0");
        podRt.AddRoute(new RouteInfo { Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = IPAddress.Parse($"10.244.{n}.1") });
        return pod;
    }
}
