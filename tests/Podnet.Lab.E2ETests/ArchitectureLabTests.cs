using System.Net.Sockets;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.TestServer;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// `lab up` end to end beyond the architecture matrix (<see cref="ArchitectureMatrixTests"/>):
/// dual-stack, and a lab file with nodes in two subnets and packet loss on one node's link.
/// </summary>
public sealed class ArchitectureLabTests
{
    [PrivilegedFact]
    public async Task DualStack_PodsGetBothFamilies_AndReachEachOtherOverIpv6()
    {
        using var lab = new TempLab("d");
        var name = lab.Name;
        lab.Up("--nodes", "2", "--ip-family", "dual");
        Assert.Equal("dual", (string)lab.Status["ipFamily"]!);
        var node = await lab.View.Client.CoreV1.ReadNodeAsync("n1");
        Assert.Equal(2, node.Spec.PodCIDRs.Count);
        var view = lab.View;
        var a = await view.RunPodAsync(LabFixture.ServerPod("a", "n1"));
        var b = await view.RunPodAsync(LabFixture.ServerPod("b", "n2"));
        Assert.Equal(2, b.Status.PodIPs.Count);
        var aV6 = a.Status.PodIPs[1].Ip;
        var bV6 = b.Status.PodIPs[1].Ip;
        Assert.Contains(':', bV6);
        using var podA = view.PodNetns(a);
        Assert.StartsWith($"[{aV6}]:", Curl(podA, $"http://[{bV6}]:8080/clientip"));
        using var outside = Netns.Open($"pn-{name}-out");
        await using var servers = new TestServerHost();
        servers.Add("outside", new TestServerSpec("outside", [8080], []), outside);
        Assert.StartsWith("[fd00:172:18::11]:", Curl(podA, "http://[fd00:172:18::1]:8080/clientip"));
    }

    [PrivilegedFact]
    public async Task LabFile_NodesInTwoSubnetsOverVxlan_PodsReachEachOther_LossOnOneNodesLinkObservable_BadFileRefused()
    {
        using var lab = new TempLab("f");
        var name = lab.Name;
        ProcessResult Run(params string[] args) => lab.Run(args);
        var dir = Directory.CreateTempSubdirectory("podnet-labfile-").FullName;
        try
        {
            var bad = Path.Combine(dir, "bad.yaml");
            await File.WriteAllTextAsync(bad, "kind: Lab\nspec:\n  nodes: 2\n  nodeOptions: {n2: {subnet: 1}}\n");
            var refused = Run("lab", "up", "-f", bad, "--name", name);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("--routing vxlan", refused.StandardError);
            Assert.DoesNotContain(Netns.List(), n => n.StartsWith($"pn-{name}-", StringComparison.Ordinal));

            var good = Path.Combine(dir, "lab.yaml");
            await File.WriteAllTextAsync(good, $"apiVersion: podnet.io/v1alpha1\nkind: Lab\nmetadata: {{name: {name}}}\nspec:\n  nodes: 3\n  routing: vxlan\n  nodeOptions: {{n2: {{subnet: 1}}, n3: {{loss: 30}}}}\n");
            lab.Up("-f", good);
            Assert.Equal("vxlan", (string)lab.Status["routing"]!);
            Assert.Equal("172.18.1.12", (string)lab.Status["nodes"]![1]!["address"]!);
            var view = lab.View;
            var a = await view.RunPodAsync(LabFixture.ServerPod("a", "n1"));
            var b = await view.RunPodAsync(LabFixture.ServerPod("b", "n2"));
            using var podA = view.PodNetns(a);
            Assert.StartsWith($"{a.Status.PodIP}:", Curl(podA, $"http://{b.Status.PodIP}:8080/clientip"));

            // 30% loss each way on n3's link: about half of 200 echo round trips are lost
            // (1 - 0.7², ±3.5% at one standard deviation), none on n1's.
            using var outside = Netns.Open($"pn-{name}-out");
            var lossy = Probes.PingLoss(outside, "172.18.0.13", 200);
            Assert.InRange(lossy, 20, 80);
            Assert.Equal(0, Probes.PingLoss(outside, "172.18.0.11", 200));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Curl(Netns from, string url) => Probes.Curl(from, url);
}
