using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Podnet.Controllers.DaemonSets;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Runtime;
using Podnet.Controllers.Tests.Fakes;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.Runtime;

/// <summary>
/// The node lifecycle and DaemonSet controllers over KubernetesClient against
/// <see cref="FakeApiServer"/> (the lab scenarios run them against the real server and agents).
/// </summary>
public sealed class NodeLifecycleAndDaemonSetTests : IAsyncLifetime
{
    private FakeApiServer _server = null!;
    private FakeKubelet _kubelet = null!;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(90));
    private Task _run = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _kubelet = new FakeKubelet(_server.Store);
        _kubelet.Start();
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        await _kubelet.DisposeAsync();
        await _server.DisposeAsync();
    }

    private FakeStore Store => _server.Store;

    private void StartControllers(string list, ControllerOptions options)
    {
        var informerOptions = new InformerOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(500) };
        _run = ControllerManager.RunAsync(_server.Client(), options, ControllerManager.ParseList(list), _stop.Token, informerOptions);
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for: " + what);
            await Task.Delay(20);
        }
    }

    private void RenewLease(string node) => Store.Put("leases", new V1Lease
    {
        Metadata = new V1ObjectMeta { Name = node, NamespaceProperty = "kube-node-lease" },
        Spec = new V1LeaseSpec { HolderIdentity = node, LeaseDurationSeconds = 40, RenewTime = DateTime.UtcNow },
    });

    private string? Ready(string node) =>
        (string?)(Store.Get("nodes", null, node)?["status"]?["conditions"] as JsonArray)?.FirstOrDefault(c => (string?)c!["type"] == "Ready")?["status"];

    private string[] Taints(string node) =>
        (Store.Get("nodes", null, node)?["spec"]?["taints"] as JsonArray ?? []).Select(t => $"{t!["key"]}:{t["effect"]}").ToArray();

    [Fact]
    public async Task NodeWhoseLeaseStops_GoesUnknown_TaintedPodsNotReadyThenEvicted_AndRecovers_AgainstFakeApiServer()
    {
        Store.Put("nodes", Node("n1"));
        Store.Put("nodes", Node("n2"));
        RenewLease("n1");
        RenewLease("n2");
        var pod = Pod("p", "10.244.1.5", node: "n2");
        pod.Spec.Tolerations = [new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 2 }];
        Store.Put("pods", pod);
        Store.Put("pods", Pod("stays", "10.244.0.5", node: "n1"));
        // A grace fifteen renewals long: on a loaded machine one renewal can come a second late
        // (a CI run saw n1 marked Unknown with a 1 s grace).
        StartControllers("nodelifecycle", new ControllerOptions { NodeMonitorGracePeriod = TimeSpan.FromSeconds(3) });
        using var renew = new CancellationTokenSource();
        var renewing = Task.Run(async () =>
        {
            while (!renew.IsCancellationRequested)
            {
                RenewLease("n1");
                await Task.Delay(200);
            }
        });

        await Eventually(() => Ready("n2") == "Unknown", "n2 Ready=Unknown");
        var condition = (Store.Get("nodes", null, "n2")!["status"]!["conditions"] as JsonArray)!.Single(c => (string?)c!["type"] == "Ready")!;
        Assert.Equal("NodeStatusUnknown", (string?)condition["reason"]);
        Assert.Equal("Kubelet stopped posting node status.", (string?)condition["message"]);
        await Eventually(() => Taints("n2").Length == 2, "the unreachable taints");
        Assert.Equal(["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"], Taints("n2"));
        Assert.NotNull(Store.Get("nodes", null, "n2")!["spec"]!["taints"]![1]!["timeAdded"]);
        await Eventually(() => Store.Get("pods", "default", "p") is null, "the pod's eviction after its 2 s toleration");

        Assert.Equal("True", Ready("n1"));
        Assert.Empty(Taints("n1"));
        Assert.NotNull(Store.Get("pods", "default", "stays"));

        // The agent comes back: Lease renewed, Ready posted.
        RenewLease("n2");
        Store.Update("nodes", null, "n2", n =>
        {
            n["status"]!["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["lastHeartbeatTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) });
            return true;
        });
        await Eventually(() => Taints("n2").Length == 0, "the taints removed");
        await renew.CancelAsync();
        await renewing;
    }

    [Fact]
    public async Task StaleNode_PodsGetReadyFalse_AgainstFakeApiServer()
    {
        Store.Put("nodes", Node("n2"));
        var pod = Pod("p", "10.244.1.5", node: "n2");
        pod.Spec.Tolerations = [new V1Toleration { OperatorProperty = "Exists" }];
        Store.Put("pods", pod);
        StartControllers("nodelifecycle", new ControllerOptions { NodeMonitorGracePeriod = TimeSpan.FromMilliseconds(500) });

        await Eventually(() => (string?)(Store.Get("pods", "default", "p")!["status"]!["conditions"] as JsonArray)!.Single(c => (string?)c!["type"] == "Ready")!["status"] == "False",
            "the pod's Ready=False");
        Assert.NotNull(Store.Get("pods", "default", "p"));
    }

    private static V1DaemonSet DaemonSet(string image, long generation) => new()
    {
        Metadata = new V1ObjectMeta { Name = "agent", NamespaceProperty = "default", Generation = generation },
        Spec = new V1DaemonSetSpec
        {
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "agent" } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "agent" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = image }] },
            },
            UpdateStrategy = new V1DaemonSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDaemonSet { MaxUnavailable = "1", MaxSurge = "0" } },
        },
    };

    private List<JsonObject> AgentPods() => Store.List("pods", "default").Items.Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();

    private long Status(string field) => (long?)Store.Get("daemonsets", "default", "agent")?["status"]?[field] ?? 0;

    [Fact]
    public async Task DaemonSet_OnePodPerUntaintedNode_ThenRollsOut_AgainstFakeApiServer()
    {
        Store.Put("nodes", Node("n1"));
        Store.Put("nodes", Node("n2"));
        Store.Put("nodes", Node("n3", true, false, null, new V1Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" }));
        Store.Put("daemonsets", DaemonSet("agent:1", 1));
        StartControllers("scheduler,daemonsets", new ControllerOptions());

        await Eventually(() => Status("numberAvailable") == 2 && Status("observedGeneration") == 1, "two available pods");
        Assert.Equal(["n1", "n2"], AgentPods().Select(p => (string)p["spec"]!["nodeName"]!).Order());
        Assert.Equal(2, Status("desiredNumberScheduled"));
        Assert.Equal(2, Status("updatedNumberScheduled"));

        Store.Update("daemonsets", "default", "agent", d =>
        {
            d["metadata"]!["generation"] = 2;
            d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "agent:2";
            return true;
        });
        await Eventually(() => Status("observedGeneration") == 2 && Status("updatedNumberScheduled") == 2 && Status("numberAvailable") == 2, "the rollout");
        Assert.All(AgentPods(), p => Assert.Equal("agent:2", (string?)p["spec"]!["containers"]![0]!["image"]));
        Assert.Equal(2, AgentPods().Count);

        Store.Put("nodes", Node("n4"));
        await Eventually(() => AgentPods().Any(p => (string?)p["spec"]!["nodeName"] == "n4"), "a pod on the new node");
        Assert.Equal(DaemonSetCalc.RevisionHashLabel, AgentPods().Select(p => p["metadata"]!["labels"]!.AsObject().Select(l => l.Key).First(k => k.StartsWith("controller", StringComparison.Ordinal))).Distinct().Single());
    }
}
