using System.Net.Sockets;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Agent.TestServer;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>`lab up --routing … --architecture …` end to end: what pods and the outside host see.</summary>
public sealed class ArchitectureLabTests
{
    [PrivilegedTheory]
    [InlineData("vxlan", "island")]
    [InlineData("host-gw", "flat")]
    [InlineData("host-gw", "isolated")]
    public async Task LabUp_RoutingAndArchitecture_BehaveAsDocumented(string routing, string architecture)
    {
        using var lab = new TempLab("a");
        var name = lab.Name;
        lab.Up("--nodes", "2", "--routing", routing, "--architecture", architecture);
        Assert.Equal(architecture, (string)lab.Status["architecture"]!);
        Assert.Equal(routing, (string)lab.Status["routing"]!);
        var fixture = lab.View;
        var a = await fixture.RunPodAsync(LabFixture.ServerPod("a", "n1"));
        var b = await fixture.RunPodAsync(LabFixture.ServerPod("b", "n2"));
        using var podA = fixture.PodNetns(a);
        using var outside = Netns.Open($"pn-{name}-out");
        await using var servers = new TestServerHost();
        servers.Add("outside", new TestServerSpec("outside", [8080], []), outside);

        // Pod to pod across nodes always works, with real addresses.
        Assert.StartsWith($"{a.Status.PodIP}:", Curl(podA, $"http://{b.Status.PodIP}:8080/clientip"));
        if (routing == "vxlan")
        {
            using var n1 = Netns.Open($"pn-{name}-n1");
            Assert.Equal(1450, (int)Tools.Ip(n1, "link", "show", "pn-vxlan")[0]!["mtu"]!);
            var full = Tools.Run(podA, "ping", "-c", "1", "-W", "3", "-M", "do", "-s", "1422", b.Status.PodIP);
            Assert.True(full.Success, full.StandardOutput + full.StandardError);
        }
        var toOutside = Tools.Run(podA, "curl", "-sS", "--max-time", "3", "http://172.18.0.1:8080/clientip");
        var fromOutside = await outside.Run(() => ConnectProbe.RunAsync(b.Status.PodIP, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(2)));
        switch (architecture)
        {
            case "island":
                Assert.StartsWith("172.18.0.11:", toOutside.StandardOutput);
                Assert.NotEqual(ConnectOutcome.Connected, fromOutside.Outcome);
                break;
            case "flat":
                Assert.StartsWith($"{a.Status.PodIP}:", toOutside.StandardOutput);
                Assert.Equal(ConnectOutcome.Connected, fromOutside.Outcome);
                Assert.StartsWith("172.18.0.1:", Curl(outside, $"http://{b.Status.PodIP}:8080/clientip"));
                break;
            case "isolated":
                Assert.False(toOutside.Success);
                var egress = await podA.Run(() => ConnectProbe.RunAsync("172.18.0.1", 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
                Assert.Equal("OTHER: No route to host", egress.ToString()); // ICMP admin-prohibited, at once
                Assert.NotEqual(ConnectOutcome.Connected, fromOutside.Outcome);
                break;
        }
    }

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
    public async Task LabFile_NodesInTwoSubnetsOverVxlan_PodsReachEachOther_BadFileRefused()
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
            await File.WriteAllTextAsync(good, $"apiVersion: podnet.io/v1alpha1\nkind: Lab\nmetadata: {{name: {name}}}\nspec:\n  nodes: 2\n  routing: vxlan\n  nodeOptions: {{n2: {{subnet: 1}}}}\n");
            lab.Up("-f", good);
            Assert.Equal("vxlan", (string)lab.Status["routing"]!);
            Assert.Equal("172.18.1.12", (string)lab.Status["nodes"]![1]!["address"]!);
            var view = lab.View;
            var a = await view.RunPodAsync(LabFixture.ServerPod("a", "n1"));
            var b = await view.RunPodAsync(LabFixture.ServerPod("b", "n2"));
            using var podA = view.PodNetns(a);
            Assert.StartsWith($"{a.Status.PodIP}:", Curl(podA, $"http://{b.Status.PodIP}:8080/clientip"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Curl(Netns from, string url)
    {
        var result = Tools.Run(from, "curl", "-sS", "--max-time", "5", url);
        Assert.True(result.Success, $"curl {url} from {from.Path}: {result.StandardError}");
        return result.StandardOutput;
    }
}
