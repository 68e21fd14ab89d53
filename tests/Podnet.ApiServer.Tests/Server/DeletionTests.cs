using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

public sealed class DeletionTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private Kubernetes Client => server.Client;

    private async Task<string> NewNamespace()
    {
        var name = "d-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    private static V1OwnerReference Owner(string apiVersion, string kind, string name, string uid) =>
        new() { ApiVersion = apiVersion, Kind = kind, Name = name, Uid = uid, Controller = true };

    private async Task<(V1Deployment, V1ReplicaSet, V1Pod)> Chain(string ns, bool scheduled = false)
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }] } };
        var deploy = await Client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1DeploymentSpec { Selector = new V1LabelSelector { MatchLabels = labels }, Template = template },
        }, ns);
        var rs = await Client.AppsV1.CreateNamespacedReplicaSetAsync(new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta { Name = "web-1", OwnerReferences = [Owner("apps/v1", "Deployment", "web", deploy.Metadata.Uid)] },
            Spec = new V1ReplicaSetSpec { Selector = new V1LabelSelector { MatchLabels = labels }, Template = template },
        }, ns);
        var pod = await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web-1-a", Labels = labels, OwnerReferences = [Owner("apps/v1", "ReplicaSet", "web-1", rs.Metadata.Uid)] },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }], NodeName = scheduled ? "node-gone" : null },
        }, ns);
        return (deploy, rs, pod);
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    private async Task<bool> Gone(Func<Task> read)
    {
        try
        {
            await read();
            return false;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }
    }

    [Fact]
    public async Task DeleteDeployment_Background_RemovesReplicaSetsAndPods()
    {
        var ns = await NewNamespace();
        await Chain(ns);
        await Client.AppsV1.DeleteNamespacedDeploymentAsync("web", ns);
        Assert.Empty((await Client.AppsV1.ListNamespacedReplicaSetAsync(ns)).Items);
        Assert.Empty((await Client.CoreV1.ListNamespacedPodAsync(ns)).Items);
    }

    [Fact]
    public async Task DeleteReplicaSet_Orphan_KeepsPodsWithoutOwner()
    {
        var ns = await NewNamespace();
        await Chain(ns);
        await Client.AppsV1.DeleteNamespacedReplicaSetAsync("web-1", ns, propagationPolicy: "Orphan");
        var pod = await Client.CoreV1.ReadNamespacedPodAsync("web-1-a", ns);
        Assert.Null(pod.Metadata.OwnerReferences);
    }

    [Fact]
    public async Task DeleteDeployment_Foreground_WaitsForDependents()
    {
        var ns = await NewNamespace();
        await Chain(ns, scheduled: true);
        await Client.AppsV1.DeleteNamespacedDeploymentAsync("web", ns, propagationPolicy: "Foreground");
        var pending = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns);
        Assert.NotNull(pending.Metadata.DeletionTimestamp);
        Assert.Contains("foregroundDeletion", pending.Metadata.Finalizers);
        var pod = await Client.CoreV1.ReadNamespacedPodAsync("web-1-a", ns);
        Assert.NotNull(pod.Metadata.DeletionTimestamp);
        await Client.CoreV1.DeleteNamespacedPodAsync("web-1-a", ns, gracePeriodSeconds: 0);
        await Eventually(() => Gone(() => Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns)), "the deployment to go once its dependents are gone");
    }

    [Fact]
    public async Task ScheduledPod_DeletesGracefully_UntilConfirmedOrNodeGone()
    {
        var ns = await NewNamespace();
        await Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = $"node-{ns}" } });
        foreach (var (name, node) in new[] { ("on-node", $"node-{ns}"), ("no-node", "node-missing") })
        {
            await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1PodSpec { NodeName = node, TerminationGracePeriodSeconds = 1, Containers = [new V1Container { Name = "c", Image = "i" }] },
            }, ns);
        }
        var terminating = await Client.CoreV1.DeleteNamespacedPodAsync("on-node", ns);
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        Assert.Equal(1, terminating.Metadata.DeletionGracePeriodSeconds);
        await Client.CoreV1.DeleteNamespacedPodAsync("no-node", ns);
        await Eventually(() => Gone(() => Client.CoreV1.ReadNamespacedPodAsync("no-node", ns)), "the pod on a missing node to go after its grace");
        await Task.Delay(1500);
        Assert.NotNull((await Client.CoreV1.ReadNamespacedPodAsync("on-node", ns)).Metadata.DeletionTimestamp);
        await Client.CoreV1.DeleteNamespacedPodAsync("on-node", ns, gracePeriodSeconds: 0);
        Assert.True(await Gone(() => Client.CoreV1.ReadNamespacedPodAsync("on-node", ns)));
    }

    [Fact]
    public async Task DeleteNamespace_RemovesEverythingInIt_ThenItself()
    {
        var ns = await NewNamespace();
        await Chain(ns);
        await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service { Metadata = new V1ObjectMeta { Name = "s" }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } }, ns);
        await Client.CoreV1.DeleteNamespaceAsync(ns);
        await Eventually(() => Gone(() => Client.CoreV1.ReadNamespaceAsync(ns)), "the namespace to go");
        Assert.Empty((await Client.CoreV1.ListNamespacedServiceAsync(ns)).Items);
        var created = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "late" } }, ns));
        Assert.Equal(HttpStatusCode.NotFound, created.Response.StatusCode);
        var system = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.DeleteNamespaceAsync("kube-system"));
        Assert.Equal(HttpStatusCode.Forbidden, system.Response.StatusCode);
    }

    [Fact]
    public async Task DeleteCollection_ByLabel()
    {
        var ns = await NewNamespace();
        foreach (var (name, app) in new[] { ("a", "x"), ("b", "x"), ("c", "y") })
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app } } }, ns);
        }
        await Client.CoreV1.DeleteCollectionNamespacedConfigMapAsync(ns, labelSelector: "app=x");
        Assert.Equal(["c"], (await Client.CoreV1.ListNamespacedConfigMapAsync(ns)).Items.Select(i => i.Metadata.Name).Where(n => n != "kube-root-ca.crt"));
    }
}
