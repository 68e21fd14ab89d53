using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

public sealed class WatchTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private Kubernetes Client => server.Client;

    private async Task<string> NewNamespace()
    {
        var name = "w-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    private static V1ConfigMap ConfigMap(string name) => new() { Metadata = new V1ObjectMeta { Name = name } };

    private async Task<List<(WatchEventType Type, string Name, string Rv)>> Collect(string ns, string rv, int count)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<(WatchEventType, string, string)>();
        await foreach (var (type, cm) in Client.CoreV1.WatchListNamespacedConfigMapAsync(ns, resourceVersion: rv, cancellationToken: cts.Token))
        {
            events.Add((type, cm.Metadata.Name, cm.Metadata.ResourceVersion));
            if (events.Count == count)
            {
                break;
            }
        }
        return events;
    }

    [Fact]
    public async Task ListThenWatch_DeliversEveryChangeInOrder_AndResumesAfterClose()
    {
        var ns = await NewNamespace();
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), ns);
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"x":"1"}}""", V1Patch.PatchType.MergePatch), "a", ns);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("b", ns);
        var events = await Collect(ns, list.Metadata.ResourceVersion, 3);
        Assert.Equal([(WatchEventType.Added, "b"), (WatchEventType.Modified, "a"), (WatchEventType.Deleted, "b")], events.Select(e => (e.Type, e.Name)));
        var rvs = events.Select(e => long.Parse(e.Rv, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(rvs.Order(), rvs);

        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), ns);
        var resumed = await Collect(ns, events[^1].Rv, 1);
        Assert.Equal((WatchEventType.Added, "c"), (resumed[0].Type, resumed[0].Name));
    }

    [Fact]
    public async Task Watch_WithLabelSelector_SendsAddedWhenStartsMatching_DeletedWhenStops()
    {
        var ns = await NewNamespace();
        var cm = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("s"), ns);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<WatchEventType>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, _) in Client.CoreV1.WatchListNamespacedConfigMapAsync(ns, labelSelector: "app=web", resourceVersion: cm.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                seen.Add(type);
                if (seen.Count == 3)
                {
                    break;
                }
            }
        });
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"app":"web"}}}""", V1Patch.PatchType.MergePatch), "s", ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"k":"v"}}""", V1Patch.PatchType.MergePatch), "s", ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"app":"db"}}}""", V1Patch.PatchType.MergePatch), "s", ns);
        await watching;
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], seen);
    }

    [Fact]
    public async Task Watch_Bookmarks_AndTimeoutSeconds_EndTheStream()
    {
        var ns = await NewNamespace();
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(ns);
        var started = DateTime.UtcNow;
        var body = await server.Http.GetStringAsync($"api/v1/namespaces/{ns}/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion={list.Metadata.ResourceVersion}");
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal("BOOKMARK", (string?)l["type"]));
        Assert.Equal("ConfigMap", (string?)lines[0]["object"]!["kind"]);
        Assert.False(string.IsNullOrEmpty((string?)lines[0]["object"]!["metadata"]!["resourceVersion"]));
    }

    [Fact]
    public async Task Watch_FromZero_StartsWithCurrentObjects()
    {
        var ns = await NewNamespace();
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("x"), ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("y"), ns);
        var events = await Collect(ns, "0", 3);
        Assert.Equal(["kube-root-ca.crt", "x", "y"], events.Select(e => e.Name));
        Assert.All(events, e => Assert.Equal(WatchEventType.Added, e.Type));
    }
}

public sealed class ExpiryTests(SmallWindowFixture server) : IClassFixture<SmallWindowFixture>
{
    [Fact]
    public async Task Watch_FromCompactedVersion_GetsHttp200WithErrorEvent410()
    {
        var client = server.Client;
        var first = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "old" } }, "default");
        for (var i = 0; i < 10; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "n-" } }, "default");
        }
        using var response = await server.Http.GetAsync($"api/v1/namespaces/default/configmaps?watch=true&resourceVersion={first.Metadata.ResourceVersion}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = JsonNode.Parse((await response.Content.ReadAsStringAsync()).Trim())!;
        Assert.Equal("ERROR", (string?)line["type"]);
        Assert.Equal(410, (int)line["object"]!["code"]!);
        Assert.Equal("Expired", (string?)line["object"]!["reason"]);
        Assert.Equal("Status", (string?)line["object"]!["kind"]);

        Exception? error = null;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = 0;
        await foreach (var _ in client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: first.Metadata.ResourceVersion, onError: e => error = e, cancellationToken: cts.Token))
        {
            received++;
        }
        Assert.Equal(0, received);
        var status = Assert.IsType<KubernetesException>(error).Status;
        Assert.Equal(410, status.Code);
        Assert.Equal("Expired", status.Reason);
    }

    [Fact]
    public async Task Continue_TokenOlderThanWindow_Is410()
    {
        var client = server.Client;
        for (var i = 0; i < 3; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "page-" } }, "kube-public");
        }
        var page = await client.CoreV1.ListNamespacedConfigMapAsync("kube-public", limit: 1);
        Assert.False(string.IsNullOrEmpty(page.Metadata.ContinueProperty));
        for (var i = 0; i < 10; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "fill-" } }, "default");
        }
        var expired = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ListNamespacedConfigMapAsync("kube-public", limit: 1, continueParameter: page.Metadata.ContinueProperty));
        Assert.Equal(HttpStatusCode.Gone, expired.Response.StatusCode);
        Assert.Contains("\"reason\":\"Expired\"", expired.Response.Content);
    }
}
