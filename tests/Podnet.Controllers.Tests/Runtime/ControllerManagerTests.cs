using System.Text.Json.Nodes;
using k8s.Models;
using Podnet.Controllers.Deployments;
using Podnet.Controllers.Informers;
using Podnet.Controllers.LoadBalancer;
using Podnet.Controllers.Runtime;
using Podnet.Controllers.Tests.Fakes;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.Runtime;

/// <summary>
/// The controllers running together over KubernetesClient, against <see cref="FakeApiServer"/>
/// with <see cref="FakeKubelet"/> marking bound pods running: stand-ins until the lab's API
/// server and agent exist. Each test waits for the cluster to converge.
/// </summary>
public sealed class ControllerManagerTests : IAsyncLifetime
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

    private void StartControllers(string list = "all", ControllerOptions? options = null)
    {
        var informerOptions = new InformerOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(500) };
        _run = ControllerManager.RunAsync(_server.Client(), options ?? new ControllerOptions(), ControllerManager.ParseList(list), _stop.Token, informerOptions);
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

    private List<JsonObject> Items(string resource, string? ns = "default") => Store.List(resource, ns).Items;

    private static V1Deployment Deployment(int replicas, string image = "web:1") => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Generation = 1 },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = image, Ports = [Port("http", 8080)] }] },
            },
        },
    };

    private int ReadyEndpoints() => Items("endpointslices")
        .Where(s => (string?)s["metadata"]!["labels"]!["kubernetes.io/service-name"] == "web")
        .Sum(s => (s["endpoints"] as JsonArray)?.Count(e => (bool?)e!["conditions"]!["ready"] == true) ?? 0);

    [Fact]
    public async Task AllControllers_DeploymentAndServiceBecomeScheduledPodsSlicesAndAnAddress_AgainstFakeApiServer()
    {
        Store.Put("nodes", Node("n1"));
        Store.Put("nodes", Node("n2"));
        Store.Put("deployments", Deployment(3));
        var service = Service(ports: [ServicePort("http", 80, "http")]);
        service.Spec.Type = "LoadBalancer";
        Store.Put("services", service);

        StartControllers();

        await Eventually(() => Items("nodes", null).All(n => n["spec"]?["podCIDR"] is not null), "node CIDRs");
        Assert.Equal(["10.244.0.0/24", "10.244.1.0/24"], Items("nodes", null).Select(n => (string)n["spec"]!["podCIDR"]!).Order());
        await Eventually(() => ReadyEndpoints() == 3, "three ready endpoints");
        await Eventually(() => Store.Get("endpoints", "default", "web")?["subsets"]?[0]?["addresses"] is JsonArray { Count: 3 }, "the v1 Endpoints with three addresses");
        Assert.Equal("http", (string?)Store.Get("endpoints", "default", "web")!["subsets"]![0]!["ports"]![0]!["name"]);
        var rs = Assert.Single(Items("replicasets"));
        var hash = (string)rs["metadata"]!["labels"]!["pod-template-hash"]!;
        Assert.Equal($"web-{hash}", (string?)rs["metadata"]!["name"]);
        var pods = Items("pods");
        Assert.All(pods, p => Assert.Matches($"^web-{hash}-[{PodTemplateHash.Alphabet}]{{5}}$", (string)p["metadata"]!["name"]!));
        Assert.Equal([1, 2], pods.GroupBy(p => (string)p["spec"]!["nodeName"]!).Select(g => g.Count()).Order());
        var slice = Items("endpointslices").Single();
        Assert.Equal(8080, (int)slice["ports"]![0]!["port"]!);
        await Eventually(() => (int?)Store.Get("deployments", "default", "web")?["status"]?["availableReplicas"] == 3, "deployment status");
        await Eventually(() => (string?)Store.Get("services", "default", "web")?["status"]?["loadBalancer"]?["ingress"]?[0]?["ip"] == "172.18.0.200", "the LoadBalancer address");

        Store.Update("deployments", "default", "web", d => { d["spec"]!["replicas"] = 1; return true; });
        await Eventually(() => Items("pods").Count == 1 && ReadyEndpoints() == 1, "scale down to one pod and one endpoint");
        await Eventually(() => Store.Get("endpoints", "default", "web")?["subsets"]?[0]?["addresses"] is JsonArray { Count: 1 }, "the v1 Endpoints down to one address");

        Store.Delete("pods", "default", (string)Items("pods")[0]["metadata"]!["name"]!);
        await Eventually(() => ReadyEndpoints() == 1 && Items("pods").Count == 1 && Items("pods")[0]["status"]?["podIP"] is not null, "the deleted pod replaced");

        var taken = (string)Items("pods")[0]["metadata"]!["name"]!;
        Store.Update("pods", "default", taken, p => { p["metadata"]!["labels"]!["app"] = "debug"; return true; });
        await Eventually(() => Items("pods").Count == 2 && ReadyEndpoints() == 1 && Store.Get("pods", "default", taken)?["metadata"]?["ownerReferences"] is JsonArray { Count: 0 },
            "the relabelled pod released and replaced, and out of the Service");
    }

    [Fact]
    public async Task Deployments_RollingUpdateReplacesEveryPod_AgainstFakeApiServer()
    {
        Store.Put("nodes", Node("n1"));
        Store.Put("deployments", Deployment(4));
        StartControllers("deployments,scheduler,nodeipam");
        await Eventually(() => (int?)Store.Get("deployments", "default", "web")?["status"]?["availableReplicas"] == 4, "first rollout");
        var maxPods = 0;

        Store.Update("deployments", "default", "web", d => { d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "web:2"; return true; });
        await Eventually(() =>
        {
            maxPods = Math.Max(maxPods, Items("pods").Count);
            var status = Store.Get("deployments", "default", "web")?["status"];
            var pods = Items("pods");
            return pods.Count == 4 && pods.All(p => (string?)p["spec"]!["containers"]![0]!["image"] == "web:2" && p["status"]?["podIP"] is not null)
                && Items("replicasets").Count == 2 && (int?)status?["updatedReplicas"] == 4 && (int?)status?["availableReplicas"] == 4;
        }, "second rollout");

        Assert.InRange(maxPods, 4, 5); // 25% of 4: one surge pod at most
        Assert.Equal([0, 4], Items("replicasets").Select(r => (int)r["spec"]!["replicas"]!).Order());
    }

    [Fact]
    public async Task Deployments_MinReadySeconds_AvailableOnlyAfterItPasses_AgainstFakeApiServer()
    {
        _kubelet.ReadyAgo = TimeSpan.Zero;
        Store.Put("nodes", Node("n1"));
        var deployment = Deployment(2);
        deployment.Spec.MinReadySeconds = 2;
        Store.Put("deployments", deployment);
        StartControllers("deployments,scheduler,nodeipam");

        await Eventually(() => (int?)Store.Get("deployments", "default", "web")?["status"]?["readyReplicas"] == 2, "ready pods");
        var readyAt = DateTime.UtcNow;
        Assert.NotEqual(2, (int?)Store.Get("deployments", "default", "web")?["status"]?["availableReplicas"]);
        await Eventually(() => (int?)Store.Get("deployments", "default", "web")?["status"]?["availableReplicas"] == 2, "available after minReadySeconds");

        Assert.True(DateTime.UtcNow - readyAt > TimeSpan.FromSeconds(0.5));
    }

    [Fact]
    public async Task Namespaces_DeletingANamespaceDeletesItsContentsThenIt_AgainstFakeApiServer()
    {
        var ns = new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = "tmp", DeletionTimestamp = DateTime.UtcNow },
            Spec = new V1NamespaceSpec { Finalizers = ["kubernetes"] },
        };
        Store.Put("namespaces", ns);
        Store.Put("pods", Pod("p", ns: "tmp"));
        Store.Put("services", Service(ns: "tmp"));
        Store.Put("pods", Pod("keep", ns: "default"));

        StartControllers("namespaces");

        await Eventually(() => Store.Get("namespaces", null, "tmp") is null, "the namespace gone");
        Assert.Empty(Items("pods", "tmp"));
        Assert.Empty(Items("services", "tmp"));
        Assert.Single(Items("pods", "default"));
    }

    [Fact]
    public async Task LoadBalancer_PoolExhausted_EventForTheServiceLeftOut_AgainstFakeApiServer()
    {
        foreach (var name in new[] { "a", "b" })
        {
            var service = Service(name);
            service.Spec.Type = "LoadBalancer";
            service.Metadata.CreationTimestamp = name == "a" ? DateTime.UtcNow.AddMinutes(-2) : DateTime.UtcNow.AddMinutes(-1);
            Store.Put("services", service);
        }
        var options = new ControllerOptions { LoadBalancerPool = [AddressRange.Parse("172.18.0.200-172.18.0.200")] };

        StartControllers("loadbalancer", options);

        await Eventually(() => Items("events").Any(e => (string?)e["reason"] == "AllocationFailed"), "the exhaustion event");
        var e = Items("events").Single(e => (string?)e["reason"] == "AllocationFailed");
        Assert.Equal(("Service", "b", "Warning"), ((string?)e["involvedObject"]!["kind"], (string?)e["involvedObject"]!["name"], (string?)e["type"]));
        Assert.Equal("172.18.0.200", (string?)Store.Get("services", "default", "a")!["status"]!["loadBalancer"]!["ingress"]![0]!["ip"]);
    }

    [Fact]
    public async Task EndpointSlices_SelectorlessServiceEndpointsMirrored_AndSlicesOfDeletedServicesRemoved_AgainstFakeApiServer()
    {
        var external = Service("external");
        external.Spec.Selector = null;
        Store.Put("services", external);
        Store.Put("endpoints", new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "external", NamespaceProperty = "default" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "192.0.2.10" }], Ports = [new Corev1EndpointPort { Name = "pg", Port = 5432 }] }],
        });
        Store.Put("services", Service("web"));
        Store.Put("pods", Pod("web-1", "10.244.0.5"));

        StartControllers("endpointslices");

        await Eventually(() => Items("endpointslices").Count == 2, "a mirrored slice and a managed one");
        var mirrored = Items("endpointslices").Single(s => (string?)s["metadata"]!["labels"]!["kubernetes.io/service-name"] == "external");
        Assert.Equal("endpointslicemirroring-controller.k8s.io", (string?)mirrored["metadata"]!["labels"]!["endpointslice.kubernetes.io/managed-by"]);
        Assert.Equal("192.0.2.10", (string?)mirrored["endpoints"]![0]!["addresses"]![0]);
        Assert.StartsWith("external-", (string?)mirrored["metadata"]!["name"]);

        Store.Delete("services", "default", "web");
        await Eventually(() => Items("endpointslices").Count == 1, "the slice of the deleted Service removed");
    }

    [Fact]
    public async Task EndpointSlices_NamedPortPerPodAndTerminatingEndpoint_AgainstFakeApiServer()
    {
        Store.Put("services", Service(ports: [ServicePort("http", 80, "web")]));
        Store.Put("pods", Pod("a", "10.244.0.5", ports: Port("web", 8080)));
        Store.Put("pods", Pod("b", "10.244.0.6", ports: Port("web", 9090)));
        StartControllers("endpointslices");
        await Eventually(() => Items("endpointslices").Count == 2, "one slice per resolved port");
        Assert.Equal([8080, 9090], Items("endpointslices").Select(s => (int)s["ports"]![0]!["port"]!).Order());

        Store.Update("pods", "default", "a", p => { p["metadata"]!["deletionTimestamp"] = "2026-01-01T00:00:00Z"; return true; });

        await Eventually(() => Items("endpointslices").Any(s => (bool?)s["endpoints"]?[0]?["conditions"]?["terminating"] == true), "the terminating endpoint");
        var conditions = Items("endpointslices").Single(s => (int)s["ports"]![0]!["port"]! == 8080)["endpoints"]![0]!["conditions"]!;
        Assert.Equal((false, true, true), ((bool)conditions["ready"]!, (bool)conditions["serving"]!, (bool)conditions["terminating"]!));
    }

    [Fact]
    public async Task Scheduler_TaintedNodes_FailedSchedulingEvent_ThenBindsOnceTolerated_AgainstFakeApiServer()
    {
        Store.Put("nodes", Node("n1", taints: new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" }));
        Store.Put("pods", Pod("p", node: null));

        StartControllers("scheduler");

        await Eventually(() => Items("events").Any(e => (string?)e["reason"] == "FailedScheduling"), "FailedScheduling");
        Assert.Equal("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.", (string?)Items("events").Single(e => (string?)e["reason"] == "FailedScheduling")["message"]);
        Store.Update("pods", "default", "p", p => { p["spec"]!["tolerations"] = new JsonArray(new JsonObject { ["key"] = "dedicated", ["operator"] = "Exists" }); return true; });
        await Eventually(() => (string?)Store.Get("pods", "default", "p")?["spec"]?["nodeName"] == "n1", "the binding");
        await Eventually(() => Items("events").Any(e => (string?)e["reason"] == "Scheduled"), "the Scheduled event");
    }

    [Theory]
    [InlineData(null, "nodeipam,scheduler,deployments,endpointslices,loadbalancer,namespaces,statefulsets,disruption,nodelifecycle,daemonsets,endpoints,serviceaccounts,rootcacert")]
    [InlineData("all", "nodeipam,scheduler,deployments,endpointslices,loadbalancer,namespaces,statefulsets,disruption,nodelifecycle,daemonsets,endpoints,serviceaccounts,rootcacert")]
    [InlineData("scheduler, endpointslices", "scheduler,endpointslices")]
    public void ParseList_AllOrCommaList(string? list, string expected) =>
        Assert.Equal(expected, string.Join(",", ControllerManager.ParseList(list)));

    [Fact]
    public void ParseList_UnknownName_NamesItAndTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => ControllerManager.ParseList("scheduler,kube-proxy"));
        Assert.Contains("kube-proxy", e.Message);
        Assert.Contains("nodeipam", e.Message);
    }
}
