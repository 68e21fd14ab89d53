using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// A StatefulSet and a PodDisruptionBudget in a two-node lab, driven with the real kubectl: the
/// set of 3 behind a headless Service starts in order (web-1 not before web-0 is Ready), web-0's
/// stable name resolves from a pod to web-0's address, scaling down removes the highest ordinal
/// first, and `kubectl drain` is refused by the budget until the budget permits, then evicts.
/// </summary>
public sealed class StatefulWorkloadTests
{
    private const string Zone = "cluster.local";

    private const string Manifest = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          clusterIP: None
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web}
        spec:
          serviceName: web
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 2
              containers:
              - name: web
                image: registry.k8s.io/e2e-test-images/agnhost:2.53
                args: [netexec, --http-port=8080]
                ports: [{containerPort: 8080}]
        """;

    private static bool IsReady(V1Pod p) => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    [PrivilegedFact]
    public async Task StatefulSet_OrderedStart_StableDns_ReverseScaleDown_AndDrainHonoursTheBudget()
    {
        using var lab = new TempLab("s");
        lab.Up("--nodes", "2");
        var client = lab.View.Client;
        var kubeconfig = (string)lab.Status["kubeconfig"]!;
        ProcessResult Kubectl(params string[] args) => ProcessRunner.Run(null, "kubectl", ["--kubeconfig", kubeconfig, .. args], timeout: TimeSpan.FromMinutes(3));

        var start = await client.CoreV1.ListNamespacedPodAsync("default");
        using var events = new PodEvents(client, start.Metadata.ResourceVersion);
        var file = Path.Combine(Path.GetTempPath(), $"workloads-sts-{lab.Name}.yaml");
        await File.WriteAllTextAsync(file, Manifest);
        try
        {
            var apply = Kubectl("apply", "-f", file);
            Assert.True(apply.Success, apply.StandardError);
        }
        finally
        {
            File.Delete(file);
        }
        var rollout = Kubectl("rollout", "status", "sts/web", "--timeout=150s");
        Assert.True(rollout.Success, rollout.StandardOutput + rollout.StandardError);
        // kubectl's message for a RollingUpdate with a partition (defaulted to 0, as upstream does).
        Assert.Contains("partitioned roll out complete: 3 new pods have been updated...", rollout.StandardOutput, StringComparison.Ordinal);

        // Ordered start: each ordinal's first appearance comes after the lower one was seen Ready.
        var seen = events.Snapshot();
        for (var ordinal = 1; ordinal < 3; ordinal++)
        {
            var readyBefore = seen.FindIndex(e => e.Pod.Metadata.Name == $"web-{ordinal - 1}" && IsReady(e.Pod));
            var created = seen.FindIndex(e => e.Pod.Metadata.Name == $"web-{ordinal}");
            Assert.True(readyBefore >= 0 && readyBefore < created, $"web-{ordinal} was created (event {created}) before web-{ordinal - 1} was Ready (event {readyBefore})");
        }
        var web0 = await client.CoreV1.ReadNamespacedPodAsync("web-0", "default");
        Assert.Equal(("web-0", "web", "0", "web-0"), (web0.Spec.Hostname, web0.Spec.Subdomain, web0.Metadata.Labels["apps.kubernetes.io/pod-index"], web0.Metadata.Labels["statefulset.kubernetes.io/pod-name"]));
        Assert.StartsWith("web-", web0.Metadata.Labels["controller-revision-hash"], StringComparison.Ordinal);
        Assert.Contains("statefulset.apps/web", Kubectl("get", "controllerrevisions").StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"REVISION\s+CHANGE-CAUSE\n1\s+<none>", Kubectl("rollout", "history", "sts/web").StandardOutput);

        // The stable DNS name, from a pod, through the lab's cluster DNS.
        var clientPod = await lab.View.RunPodAsync(LabFixture.ServerPod("client", "n1"));
        using (var netns = lab.View.PodNetns(clientPod))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            string answer;
            while ((answer = Tools.Run(netns, "dig", "@10.96.0.10", "+short", $"web-0.web.default.svc.{Zone}").StandardOutput.Trim()) != web0.Status.PodIP)
            {
                Assert.True(DateTime.UtcNow < deadline, $"web-0.web.default.svc.{Zone} answered \"{answer}\", not {web0.Status.PodIP}");
                await Task.Delay(200);
            }
        }

        // Scale down: web-2 goes (and is gone) before web-1 starts terminating.
        var mark = events.Snapshot().Count;
        var scale = Kubectl("scale", "sts/web", "--replicas=1");
        Assert.True(scale.Success, scale.StandardError);
        await WaitAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=web")).Items.Count == 1, "scale down to web-0");
        var after = events.Snapshot().Skip(mark).ToList();
        var twoGone = after.FindIndex(e => e.Pod.Metadata.Name == "web-2" && e.Type == WatchEventType.Deleted);
        var oneTerminating = after.FindIndex(e => e.Pod.Metadata.Name == "web-1" && (e.Type == WatchEventType.Deleted || e.Pod.Metadata.DeletionTimestamp is not null));
        Assert.True(twoGone >= 0 && twoGone < oneTerminating, $"web-1 began terminating (event {oneTerminating}) before web-2 was gone (event {twoGone})");

        // A budget that allows no disruption: drain is refused with the eviction's 429.
        await client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } } },
        }, "default");
        await WaitAsync(async () => (await client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("web", "default")).Status is { ObservedGeneration: 1, ExpectedPods: 1, CurrentHealthy: 1 }, "the budget's status");
        var node = (await client.CoreV1.ReadNamespacedPodAsync("web-0", "default")).Spec.NodeName;
        var refused = Kubectl("drain", node, "--pod-selector=app=web", "--ignore-daemonsets", "--timeout=12s");
        Assert.False(refused.Success, refused.StandardOutput);
        Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget.", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(web0.Metadata.Uid, (await client.CoreV1.ReadNamespacedPodAsync("web-0", "default")).Metadata.Uid);
        Assert.Contains("SchedulingDisabled", Kubectl("get", "node", node).StandardOutput, StringComparison.Ordinal);

        // Once the budget permits one disruption, the same drain evicts web-0, which comes back on the other node.
        var patch = Kubectl("patch", "pdb", "web", "--type=merge", "-p", """{"spec":{"minAvailable":null,"maxUnavailable":1}}""");
        Assert.True(patch.Success, patch.StandardError);
        await WaitAsync(async () => (await client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("web", "default")).Status is { ObservedGeneration: 2, DisruptionsAllowed: 1 }, "the budget to allow one");
        var drained = Kubectl("drain", node, "--pod-selector=app=web", "--ignore-daemonsets", "--timeout=90s");
        Assert.True(drained.Success, drained.StandardOutput + drained.StandardError);
        Assert.Contains("pod/web-0 evicted", drained.StandardOutput, StringComparison.Ordinal);
        var back = await lab.View.WaitForPodAsync("default", "web-0", p => p.Metadata.Uid != web0.Metadata.Uid && IsReady(p), TimeSpan.FromSeconds(90));
        Assert.NotEqual(node, back.Spec.NodeName);
        var uncordon = Kubectl("uncordon", node);
        Assert.True(uncordon.Success, uncordon.StandardError);
        Assert.NotEqual(true, (await client.CoreV1.ReadNodeAsync(node)).Spec.Unschedulable);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }

    /// <summary>Every pod event in namespace default from a resourceVersion on, in the API server's order.</summary>
    private sealed class PodEvents : IDisposable
    {
        private readonly List<(WatchEventType Type, V1Pod Pod)> _events = [];
        private readonly CancellationTokenSource _stop = new();

        public PodEvents(IKubernetes client, string resourceVersion)
        {
            _ = Task.Run(async () =>
            {
                await foreach (var (type, pod) in client.CoreV1.WatchListNamespacedPodAsync("default", resourceVersion: resourceVersion, timeoutSeconds: 1800, cancellationToken: _stop.Token))
                {
                    lock (_events)
                    {
                        _events.Add((type, pod));
                    }
                }
            });
        }

        public List<(WatchEventType Type, V1Pod Pod)> Snapshot()
        {
            lock (_events)
            {
                return [.. _events];
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }
}
