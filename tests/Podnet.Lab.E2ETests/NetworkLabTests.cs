using System.Net.Sockets;
using k8s;
using k8s.Models;
using Podnet.TestServer;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>`lab up --network NAME`: several labs on one shared broader network.</summary>
public sealed class NetworkLabTests
{
    [PrivilegedFact]
    public async Task SharedNetwork_IslandLabsShareAPodCidr_AnOverlappingFlatLabIsRefused_AFlatLabIsReachedDirectly()
    {
        var network = "t" + Guid.NewGuid().ToString("N")[..7];
        var netns = $"pn-net-{network}";
        try
        {
            using (var a = new TempLab("na"))
            using (var b = new TempLab("nb"))
            using (var flat = new TempLab("nf"))
            {
                a.Up("--nodes", "2", "--network", network);
                b.Up("--nodes", "2", "--network", network);
                using var host = Netns.Open(netns);
                await using var servers = new TestServerHost();
                servers.Add("network", new TestServerSpec("network", [8080], []), host);

                // Two island labs, one pod CIDR: each works on its own, and reaches the network
                // host from its node's address, in its own fabric subnet.
                var seen = new List<string>();
                foreach (var lab in new[] { a, b })
                {
                    Assert.Equal("10.244.0.0/16", (string)lab.Status["podCIDRs"]![0]!);
                    var p1 = await lab.View.RunPodAsync(LabFixture.ServerPod("p1", "n1"));
                    var p2 = await lab.View.RunPodAsync(LabFixture.ServerPod("p2", "n2"));
                    Assert.StartsWith("10.244.", p1.Status.PodIP);
                    using var pod = lab.View.PodNetns(p1);
                    Assert.StartsWith($"{p1.Status.PodIP}:", Probes.Curl(pod, $"http://{p2.Status.PodIP}:8080/clientip"));
                    var node = (string)lab.Status["nodes"]![0]!["address"]!;
                    Assert.StartsWith($"{node}:", Probes.Curl(pod, "http://172.19.0.1:8080/clientip"));
                    seen.Add(node);
                    seen.Add(await LoadBalancerIpAsync(lab));
                }
                // Each lab's nodes and LoadBalancer addresses come from its own slot's fabric.
                Assert.Equal(["172.18.0.11", "172.18.0.200", "172.18.16.11", "172.18.16.200"], seen);
                // Each lab's LoadBalancer address answers from the network's host and from the
                // other lab's outside host (announced on its fabric, routed there by the network).
                foreach (var (lab, other, lb) in new[] { (a, b, seen[1]), (b, a, seen[3]) })
                {
                    Assert.Equal("p1", await AnswerAsync(host, $"http://{lb}/hostname"));
                    using var otherOutside = Netns.Open($"pn-{other.Name}-out");
                    Assert.Equal("p1", await AnswerAsync(otherOutside, $"http://{lb}/hostname"));
                }

                // A flat lab with the same pod CIDR would have the network route 10.244.0.0/16 to
                // it: refused, naming the lab it collides with, and nothing is made.
                var refused = flat.Run("lab", "up", "--name", flat.Name, "--nodes", "2", "--network", network, "--architecture", "flat");
                Assert.Equal(2, refused.ExitCode);
                Assert.Contains($"pod CIDR 10.244.0.0/16 overlaps pod CIDR 10.244.0.0/16 of lab {a.Name}", refused.StandardError);
                Assert.DoesNotContain(Netns.List(), n => n.StartsWith($"pn-{flat.Name}-", StringComparison.Ordinal));
                Assert.DoesNotContain(flat.Name, flat.Run("lab", "list").StandardOutput);

                // With a pod CIDR of its own it joins, and the network host reaches its pods directly.
                flat.Up("--nodes", "2", "--network", network, "--architecture", "flat", "--pod-cidr", "10.245.0.0/16");
                Assert.Equal("172.18.32.0/20", (string)flat.Status["network"]!["routedHere"]![0]!);
                var far = await flat.View.RunPodAsync(LabFixture.ServerPod("far", "n2"));
                Assert.StartsWith("10.245.", far.Status.PodIP);
                Assert.StartsWith("172.19.0.1:", Probes.Curl(host, $"http://{far.Status.PodIP}:8080/clientip"));
                using var farPod = flat.View.PodNetns(far);
                Assert.StartsWith($"{far.Status.PodIP}:", Probes.Curl(farPod, "http://172.19.0.1:8080/clientip"));
                // The island labs' pods stay unreachable from the network.
                var island = await host.Run(() => ConnectProbe.RunAsync("10.244.0.2", 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(1)));
                Assert.NotEqual(ConnectOutcome.Connected, island.Outcome);

                a.Dispose();
                Assert.True(Netns.Exists(netns), "the network went with its first lab");
            }
            Assert.False(Netns.Exists(netns), "the network outlived its last lab");
        }
        finally
        {
            Netns.Delete(netns);
        }
    }

    /// <summary>curl's body once <paramref name="url"/> answers from <paramref name="from"/> (the address is programmed and announced a moment after it is allocated).</summary>
    private static async Task<string> AnswerAsync(Netns from, string url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var result = Tools.Run(from, "curl", "-sSf", "--max-time", "2", url);
            if (result.Success)
            {
                return result.StandardOutput;
            }
            Assert.True(DateTime.UtcNow < deadline, $"curl {url} from {from.Path}: {result.StandardError}");
            await Task.Delay(200);
        }
    }

    /// <summary>The address the lab's LoadBalancer controller gives a new LoadBalancer Service.</summary>
    private static async Task<string> LoadBalancerIpAsync(TempLab lab)
    {
        await lab.View.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "lb" },
            Spec = new V1ServiceSpec { Type = "LoadBalancer", Selector = new Dictionary<string, string> { ["app"] = "p1" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
        }, "default");
        for (var i = 0; i < 600; i++)
        {
            var service = await lab.View.Client.CoreV1.ReadNamespacedServiceAsync("lb", "default");
            if (service.Status?.LoadBalancer?.Ingress?.FirstOrDefault()?.Ip is { } ip)
            {
                return ip;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"lab {lab.Name}: no LoadBalancer address within 60 s");
    }
}
