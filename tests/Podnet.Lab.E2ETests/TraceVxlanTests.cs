using k8s;
using k8s.Models;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// `podnet trace` on a two-node VXLAN lab: a pod's request to a Service by name whose endpoint
/// is on the other node is routed into pn-vxlan, encapsulated to the other node's VTEP (the
/// VNI and the VTEP from the device and its FDB), and arrives there on pn-vxlan.
/// </summary>
public sealed class TraceVxlanTests
{
    [PrivilegedFact]
    public async Task Trace_PodToServiceOnAnotherNodeOverVxlan_ShowsTheEncapsulationToTheOtherNodesVtep()
    {
        using var lab = new TempLab("v");
        lab.Up("--nodes", "2", "--routing", "vxlan");
        await lab.View.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "tv" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "tv" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
        }, "default");
        var pods = await Task.WhenAll(lab.View.RunPodAsync(LabFixtureView.ServerPod("tvc", "n1")), lab.View.RunPodAsync(LabFixtureView.ServerPod("tv", "n2")));
        var server = pods[1].Status.PodIP;
        var n2 = (string)lab.Status["nodes"]!.AsArray().Single(n => (string)n!["name"]! == "n2")!["address"]!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(await lab.View.Client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: "kubernetes.io/service-name=tv")).Items.SelectMany(e => e.Endpoints ?? []).Any())
        {
            Assert.True(DateTime.UtcNow < deadline, "no endpoint for tv within 60 s");
            await Task.Delay(200);
        }
        var run = lab.Run("trace", "--lab", lab.Name, "tvc", "tv:80", "-o", "json");
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        var json = System.Text.Json.Nodes.JsonNode.Parse(run.StandardOutput)!;
        var steps = CheckLabTests.Steps(json);
        Assert.Contains(steps, s => s is ("L3", "n1", _, true) && s.Item3.StartsWith($"route: {server} via ", StringComparison.Ordinal) && s.Item3.EndsWith(" dev pn-vxlan", StringComparison.Ordinal));
        Assert.Contains(steps, s => s is ("L2", "n1", _, true) && s.Item3.StartsWith("out pn-vxlan (vxlan) ", StringComparison.Ordinal));
        Assert.Contains(steps, s => s is ("L3", "n1", _, true) && s.Item3.StartsWith("VXLAN encapsulation: VNI 1, UDP port 4789, ", StringComparison.Ordinal) && s.Item3.EndsWith($" -> VTEP {n2}", StringComparison.Ordinal));
        Assert.Contains(("L3", "n2", "arrived on pn-vxlan", true), steps);
        Assert.Contains(("reply", "n2", $"from {server} arrived on pn0", true), steps);
        Assert.Equal("connect", (string)json["result"]!["outcome"]!);
    }
}
