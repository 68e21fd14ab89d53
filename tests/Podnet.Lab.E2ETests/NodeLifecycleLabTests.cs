using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// A three-node lab with a 5 s node grace period: DaemonSets follow taints and roll out as
/// `kubectl rollout status` sees it; a stopped node turns NotReady, its pods leave the
/// EndpointSlices, a Deployment's pod is recreated elsewhere after its tolerationSeconds, and
/// the node comes back Ready with its taints gone.
/// </summary>
public sealed class NodeLifecycleLabTests
{
    private const string Image = "registry.k8s.io/e2e-test-images/agnhost:2.53";

    private static V1PodTemplateSpec Template(string app, IList<V1Toleration>? tolerations = null) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = app } },
        Spec = new V1PodSpec
        {
            Tolerations = tolerations,
            Containers = [new V1Container { Name = "web", Image = Image, Args = ["netexec", "--http-port=8080"], Ports = [new V1ContainerPort { ContainerPort = 8080 }] }],
        },
    };

    private static async Task Until(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for: " + what);
            await Task.Delay(250);
        }
    }

    [PrivilegedFact]
    public async Task DaemonSetFollowsTaintsAndRollsOut_StoppedNodeGoesNotReadyAndItsPodsMove_ThenComesBack()
    {
        using var lab = new TempLab("nl");
        lab.Up("--node-grace", "5s");
        var client = lab.View.Client;
        var kubeconfig = (string)lab.Status["kubeconfig"]!;
        ProcessResult Kubectl(params string[] args) => ProcessRunner.Run(null, "kubectl", ["--kubeconfig", kubeconfig, .. args], timeout: TimeSpan.FromMinutes(4));
        async Task<List<V1Pod>> Pods(string app) => (await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: $"app={app}")).Items
            .Where(p => p.Metadata.DeletionTimestamp is null).ToList();
        async Task<V1Node> Node(string name) => await client.CoreV1.ReadNodeAsync(name);

        // A tainted node gets no DaemonSet pod; untainted, it gets one.
        Assert.True(Kubectl("taint", "nodes", "n3", "dedicated=db:NoSchedule").Success);
        await client.AppsV1.CreateNamespacedDaemonSetAsync(new V1DaemonSet
        {
            Metadata = new V1ObjectMeta { Name = "agent", NamespaceProperty = "default" },
            Spec = new V1DaemonSetSpec { Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "agent" } }, Template = Template("agent") },
        }, "default");
        await Until(async () => (await client.AppsV1.ReadNamespacedDaemonSetAsync("agent", "default")).Status is { DesiredNumberScheduled: 2, NumberAvailable: 2 }, "two agent pods");
        Assert.Equal(["n1", "n2"], (await Pods("agent")).Select(p => p.Spec.NodeName).Order());
        Assert.True(Kubectl("taint", "nodes", "n3", "dedicated=db:NoSchedule-").Success);
        await Until(async () => (await Pods("agent")).Any(p => p.Spec.NodeName == "n3"), "the agent pod on n3");

        // A rolling update, watched by kubectl.
        await client.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch("""{"spec":{"template":{"metadata":{"annotations":{"revision":"2"}}}}}""", V1Patch.PatchType.MergePatch), "agent", "default");
        var rollout = Kubectl("rollout", "status", "ds/agent", "--timeout=180s");
        Assert.True(rollout.Success, rollout.StandardError + rollout.StandardOutput);
        Assert.Contains("daemon set \"agent\" successfully rolled out", rollout.StandardOutput);
        var updated = await Pods("agent");
        Assert.Equal(3, updated.Count);
        Assert.All(updated, p => Assert.Equal("2", p.Metadata.Annotations?["revision"]));

        // A Deployment with a pod on every node, which leaves a dead node after 15 s.
        var leave = new List<V1Toleration> { new() { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 15 } };
        await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1DeploymentSpec { Replicas = 3, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } }, Template = Template("web", leave) },
        }, "default");
        await client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
        }, "default");
        async Task<List<V1Endpoint>> Endpoints() => (await client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: "kubernetes.io/service-name=web")).Items
            .SelectMany(s => s.Endpoints ?? []).ToList();
        await Until(async () => (await Endpoints()).Count(e => e.Conditions.Ready == true) == 3, "three ready endpoints");
        var onN2 = Assert.Single(await Pods("web"), p => p.Spec.NodeName == "n2");

        Assert.Equal(0, lab.Run("lab", "node", "stop", "n2", "--name", lab.Name).ExitCode);
        await Until(async () => (await Node("n2")).Status.Conditions.Single(c => c.Type == "Ready").Status == "Unknown", "n2 Ready=Unknown");
        var ready = (await Node("n2")).Status.Conditions.Single(c => c.Type == "Ready");
        Assert.Equal(("NodeStatusUnknown", "Kubelet stopped posting node status."), (ready.Reason, ready.Message));
        await Until(async () => (await Node("n2")).Spec.Taints?.Count(t => t.Key == "node.kubernetes.io/unreachable") == 2, "the unreachable taints");
        Assert.Contains(Kubectl("get", "nodes").StandardOutput.Split('\n'), line => line.StartsWith("n2 ", StringComparison.Ordinal) && line.Contains(" NotReady ", StringComparison.Ordinal));
        Assert.Contains(lab.Run("get", "nodes", "--lab", lab.Name).StandardOutput.Split('\n'), line => line.StartsWith("n2 ", StringComparison.Ordinal) && line.Contains(" NotReady ", StringComparison.Ordinal));

        // Its pod leaves the Service (ready and serving false), then is recreated elsewhere.
        var gone = (await Endpoints()).SingleOrDefault(e => e.TargetRef?.Name == onN2.Metadata.Name);
        Assert.True(gone is null || gone.Conditions is { Ready: false, Serving: false }, $"n2's endpoint is still in use: {KubernetesJson.Serialize(gone)}");
        await Until(async () => (await Pods("web")) is var pods && pods.Count(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true) == 3
            && pods.All(p => p.Spec.NodeName != "n2"), "the Deployment's pods on n1 and n3 only");
        await Until(async () => (await Endpoints()).Count(e => e.Conditions.Ready == true) == 3, "three ready endpoints again");
        Assert.DoesNotContain(await Endpoints(), e => e.Conditions.Ready == true && e.NodeName == "n2");
        // The DaemonSet's pod tolerates unreachable nodes: it stays, not ready.
        Assert.Single(await Pods("agent"), p => p.Spec.NodeName == "n2");

        Assert.Equal(0, lab.Run("lab", "node", "start", "n2", "--name", lab.Name).ExitCode);
        await Until(async () => (await Node("n2")) is var n && n.Status.Conditions.Single(c => c.Type == "Ready").Status == "True"
            && (n.Spec.Taints ?? []).All(t => !t.Key.StartsWith("node.kubernetes.io/", StringComparison.Ordinal)), "n2 Ready again, its taints gone");
        await Until(async () => (await client.AppsV1.ReadNamespacedDaemonSetAsync("agent", "default")).Status is { DesiredNumberScheduled: 3, NumberReady: 3 }, "the agent pod on n2 ready again");
    }
}
