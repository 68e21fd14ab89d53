using System.Net;
using System.Net.Sockets;
using Podnet.Agent.Routing;
using Podnet.TestServer;
using Podnet.Core.Cluster;
using Podnet.Core.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;
using Podnet.Lab.Topology;

namespace Podnet.Agent.IntegrationTests;

/// <summary>
/// host-gw routes and the island, flat and isolated architectures, planned from Node records
/// and applied on a real two-node lab topology. The pods here are wired by hand (bridge +
/// veth), standing in for the CNI plugin.
/// </summary>
public sealed class ArchitectureTests
{
    [PrivilegedFact]
    public async Task Island_PodsReachAcrossNodesWithTheirOwnAddresses_OutsideSeesTheNode_AndCannotReachPods()
    {
        await WithLab(Architecture.Island, async lab =>
        {
            Assert.StartsWith("10.244.1.10:", lab.Curl(lab.Pods[0], "http://10.244.2.10:8080/clientip"));
            Assert.StartsWith($"{lab.Plan.Nodes[0].Address.Address}:", lab.Curl(lab.Pods[0], "http://172.18.0.1:8080/clientip"));
            Assert.NotEqual(ConnectOutcome.Connected, (await lab.Connect(lab.Outside, "10.244.2.10")).Outcome);

            // A node leaving the cluster takes its route with it.
            using var rt1 = RtNetlink.Open(lab.NodeNetns[0]);
            Assert.Equal(1, RouteApplier.Apply(rt1, HostGwPlanner.Build("n1", [lab.Nodes[0]])));
            Assert.DoesNotContain(rt1.GetRoutes(AddressFamily.InterNetwork), r => r.Protocol == RouteApplier.Protocol);
        });
    }

    [PrivilegedFact]
    public async Task Flat_OutsideRoutesToPods_EachSideSeesTheOthersRealAddress()
    {
        await WithLab(Architecture.Flat, async lab =>
        {
            Assert.StartsWith("10.244.1.10:", lab.Curl(lab.Pods[0], "http://172.18.0.1:8080/clientip"));
            Assert.Equal(ConnectOutcome.Connected, (await lab.Connect(lab.Outside, "10.244.2.10")).Outcome);
            Assert.StartsWith("172.18.0.1:", lab.Curl(lab.Outside, "http://10.244.2.10:8080/clientip"));
        });
    }

    [PrivilegedFact]
    public async Task Isolated_PodsAndOutsideCannotReachEachOther_FailingFast_NodesStayReachableAlsoFromPods()
    {
        await WithLab(Architecture.Isolated, async lab =>
        {
            Assert.StartsWith("10.244.1.10:", lab.Curl(lab.Pods[0], "http://10.244.2.10:8080/clientip"));
            var started = DateTime.UtcNow;
            var egress = await lab.Connect(lab.Pods[0], "172.18.0.1", TimeSpan.FromSeconds(3));
            Assert.Equal("OTHER: No route to host", egress.ToString()); // ICMP admin-prohibited
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
            Assert.NotEqual(ConnectOutcome.Connected, (await lab.Connect(lab.Outside, "10.244.2.10")).Outcome);
            Assert.True(Tools.Run(lab.Outside, "ping", "-c", "1", "-W", "2", lab.Plan.Nodes[1].Address.Address.ToString()).Success);
            // Another node is part of the cluster, not outside: a pod reaches it (its NodePorts, as upstream).
            var toNode = Tools.Run(lab.Pods[0], "ping", "-c", "1", "-W", "3", lab.Plan.Nodes[1].Address.Address.ToString());
            Assert.True(toNode.Success, toNode.StandardOutput + toNode.StandardError);
        });
    }

    private sealed record Lab(LabPlan Plan, NodeInfo[] Nodes, Netns[] NodeNetns, List<Netns> Pods, Netns Outside)
    {
        public string Curl(Netns from, string url)
        {
            var result = Tools.Run(from, "curl", "-sS", "--max-time", "5", url);
            Assert.True(result.Success, $"curl {url} from {from.Path}: {result.StandardError}");
            return result.StandardOutput;
        }

        public Task<ConnectResult> Connect(Netns from, string address, TimeSpan? timeout = null) =>
            from.Run(() => ConnectProbe.RunAsync(address, 8080, ProtocolType.Tcp, timeout ?? TimeSpan.FromSeconds(1)));
    }

    private static async Task WithLab(Architecture architecture, Func<Lab, Task> test)
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..8];
        var plan = LabPlanner.Build(new LabSpec { Name = name, Nodes = 2 });
        var pods = new List<Netns>();
        var nodeNetns = new List<Netns>();
        try
        {
            LabBuilder.Up(plan);
            var nodes = plan.Nodes.Select((n, i) => new NodeInfo(n.Name, [n.Address.Address], [IPNetwork.Parse($"10.244.{i + 1}.0/24")])).ToArray();
            var egress = EgressPlanner.Build(architecture, [IPNetwork.Parse("10.244.0.0/16")], [IPNetwork.Parse("10.96.0.0/16")], nodes.SelectMany(n => n.InternalIPs).ToArray()).ToScript();
            for (var i = 0; i < nodes.Length; i++)
            {
                var node = Netns.Open(plan.Nodes[i].Netns);
                nodeNetns.Add(node);
                using var rt = RtNetlink.Open(node);
                pods.Add(HandWiredPods.Add(rt, name, i + 1));
                Assert.Equal(1, RouteApplier.Apply(rt, HostGwPlanner.Build(nodes[i].Name, nodes)));
                Assert.Equal(0, RouteApplier.Apply(rt, HostGwPlanner.Build(nodes[i].Name, nodes)));
                Nft.Apply(node, egress);
                Nft.Apply(node, egress);
            }
            using var outside = Netns.Open(plan.Outside.Netns);
            if (architecture == Architecture.Flat)
            {
                // The broader network's router learns each node's pod CIDR, as the lab programs it.
                using var outsideRt = RtNetlink.Open(outside);
                RouteApplier.Apply(outsideRt, HostGwPlanner.Build("", nodes));
            }
            await using var servers = new TestServerHost();
            servers.Add("pod2", new TestServerSpec("pod2", [8080], []), pods[1]);
            servers.Add("outside", new TestServerSpec("outside", [8080], []), outside);
            await test(new Lab(plan, nodes, nodeNetns.ToArray(), pods, outside));
        }
        finally
        {
            nodeNetns.ForEach(n => n.Dispose());
            HandWiredPods.Remove(pods);
            LabBuilder.Down(name);
        }
    }
}
