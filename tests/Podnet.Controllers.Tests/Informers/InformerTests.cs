using System.Collections.Concurrent;
using k8s.Models;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Tests.Fakes;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.Informers;

/// <summary>
/// The informer over KubernetesClient, against <see cref="FakeApiServer"/> (a stand-in until the
/// lab's API server exists): every request and response crosses a real HTTP connection.
/// </summary>
public sealed class InformerTests : IAsyncLifetime
{
    private FakeApiServer _server = null!;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));
    private readonly ConcurrentQueue<string> _seen = new();
    private readonly ConcurrentQueue<Exception> _errors = new();
    private Informer<V1Pod> _informer = null!;
    private Task _run = Task.CompletedTask;

    public async Task InitializeAsync() => _server = await FakeApiServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        await _server.DisposeAsync();
    }

    private async Task StartInformerAsync(TimeSpan? initialBackoff = null)
    {
        var options = new InformerOptions
        {
            InitialBackoff = initialBackoff ?? TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromSeconds(1),
            MinWatchDuration = TimeSpan.Zero,
            OnError = _errors.Enqueue,
        };
        _informer = new Informer<V1Pod>(ListWatches.Pods(_server.Client()), options);
        _informer.Cache.AddIndex("node", p => p.Spec?.NodeName is { Length: > 0 } n ? [n] : []);
        _informer.AddHandlers(new InformerHandlers<V1Pod>(
            p => _seen.Enqueue("add " + p.Metadata.Name),
            (o, n) => _seen.Enqueue($"update {n.Metadata.Name} {o.Status?.PodIP}->{n.Status?.PodIP}"),
            p => _seen.Enqueue("delete " + p.Metadata.Name)));
        _run = Task.Run(() => _informer.RunAsync(_stop.Token));
        await _informer.WaitForSyncAsync(_stop.Token);
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for: " + what);
            await Task.Delay(10);
        }
    }

    private List<string> WatchRequests() => _server.Requests.Where(r => r.Contains("watch=true")).ToList();

    [Fact]
    public async Task InitialList_FillsCacheAndIndexes_ThenWatchesFromTheListResourceVersion_AgainstFakeApiServer()
    {
        _server.Store.Put("pods", Pod("a", "10.244.1.1", node: "n1"));
        _server.Store.Put("pods", Pod("b", "10.244.2.1", node: "n2"));
        _server.Store.Put("pods", Pod("c", "10.244.2.2", node: "n2", ns: "other"));
        var listRv = _server.Store.ResourceVersion.ToString();

        await StartInformerAsync();
        await Eventually(() => WatchRequests().Count > 0, "the first watch");

        Assert.Equal(3, _informer.Cache.Count);
        Assert.Equal(["add a", "add b", "add c"], _seen.Order());
        Assert.Equal(["b", "c"], _informer.Cache.ByIndex("node", "n2").Select(p => p.Metadata.Name).Order());
        Assert.Equal("10.244.2.2", _informer.Cache.Get("other", "c")!.Status.PodIP);
        Assert.Equal(listRv, _informer.ResourceVersion);
        Assert.StartsWith("/api/v1/pods", _server.Requests[0]);
        Assert.DoesNotContain("watch=true", _server.Requests[0]);
        Assert.Contains($"resourceVersion={listRv}", WatchRequests()[0]);
    }

    [Fact]
    public async Task WatchEvents_AddUpdateDelete_ReachCacheIndexAndHandlers_AgainstFakeApiServer()
    {
        await StartInformerAsync();

        _server.Store.Put("pods", Pod("a", "10.244.1.1", node: "n1"));
        var moved = Pod("a", "10.244.1.9", node: "n3");
        _server.Store.Put("pods", moved);
        _server.Store.Put("pods", Pod("b", "10.244.1.2", node: "n1"));
        _server.Store.Delete("pods", "default", "b");
        await Eventually(() => _seen.Count == 4, "four events");

        Assert.Equal(["add a", "update a 10.244.1.1->10.244.1.9", "add b", "delete b"], _seen);
        Assert.Empty(_informer.Cache.ByIndex("node", "n1"));
        Assert.Equal("a", Assert.Single(_informer.Cache.ByIndex("node", "n3")).Metadata.Name);
        Assert.Equal(_server.Store.ResourceVersion.ToString(), _informer.ResourceVersion);
    }

    [Fact]
    public async Task Expired410_Relists_ReportingWhatChangedWhileAway_AgainstFakeApiServer()
    {
        _server.Store.Put("pods", Pod("a", "10.244.1.1"));
        _server.Store.Put("pods", Pod("b", "10.244.1.2"));
        await StartInformerAsync();
        await Eventually(() => _server.Store.WatcherCount == 1, "the watch");
        var staleRv = _informer.ResourceVersion;

        _server.Store.ExpireWhileAway(s =>
        {
            s.Delete("pods", "default", "a");
            s.Put("pods", Pod("b", "10.244.1.22"));
            s.Put("pods", Pod("d", "10.244.1.4"));
        });
        await Eventually(() => _informer.ListCount == 2 && _seen.Count == 5, "a relist");

        Assert.Contains(WatchRequests(), r => r.Contains($"resourceVersion={staleRv}"));
        Assert.Equal(["add a", "add b"], _seen.Take(2));
        Assert.Equal(["add d", "delete a", "update b 10.244.1.2->10.244.1.22"], _seen.Skip(2).Order());
        Assert.Equal(["b", "d"], _informer.Cache.List().Select(p => p.Metadata.Name).Order());
        await Eventually(() => WatchRequests().Any(r => r.Contains($"resourceVersion={_server.Store.ResourceVersion}")), "a watch from the new list");
    }

    [Fact]
    public async Task ServerClosesWatch_ResumesFromLastResourceVersion_WithoutRelist_AgainstFakeApiServer()
    {
        await StartInformerAsync();
        _server.Store.Put("pods", Pod("a", "10.244.1.1"));
        await Eventually(() => _seen.Count == 1, "the add");
        var lastRv = _informer.ResourceVersion;

        _server.Store.CloseWatches();
        await Eventually(() => WatchRequests().Count == 2, "a second watch");
        _server.Store.Put("pods", Pod("b", "10.244.1.2"));
        await Eventually(() => _seen.Count == 2, "the event after the reconnect");

        Assert.Contains($"resourceVersion={lastRv}", WatchRequests()[1]);
        Assert.Equal(1, _informer.ListCount);
    }

    [Fact]
    public async Task ServerRestartMidWatch_ReconnectsWithBackoffAndCatchesUp_AgainstFakeApiServer()
    {
        await StartInformerAsync();
        _server.Store.Put("pods", Pod("a", "10.244.1.1"));
        await Eventually(() => _seen.Count == 1, "the add");

        var restart = _server.RestartAsync(TimeSpan.FromMilliseconds(400));
        _server.Store.Put("pods", Pod("during", "10.244.1.7"));
        await restart;
        await Eventually(() => _informer.Cache.Get("default", "during") is not null, "the change made while the server was down");

        Assert.NotEmpty(_errors);
        Assert.Equal(1, _informer.ListCount);
    }

    [Fact]
    public async Task NodeScopedInformer_SeesOnlyItsNodesPods_BindingArrivesAsAdd_AgainstFakeApiServer()
    {
        _server.Store.Put("pods", Pod("mine", "10.244.1.1", node: "n1"));
        _server.Store.Put("pods", Pod("theirs", "10.244.2.1", node: "n2"));
        _server.Store.Put("pods", Pod("pending", node: null));
        var seen = new ConcurrentQueue<string>();
        var informer = new Informer<V1Pod>(ListWatches.Pods(_server.Client(), fieldSelector: "spec.nodeName=n1"),
            new InformerOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MinWatchDuration = TimeSpan.Zero });
        informer.AddHandlers(new InformerHandlers<V1Pod>(p => seen.Enqueue("add " + p.Metadata.Name), null, p => seen.Enqueue("delete " + p.Metadata.Name)));
        _run = Task.Run(() => informer.RunAsync(_stop.Token));
        await informer.WaitForSyncAsync(_stop.Token);
        await Eventually(() => _server.Store.WatcherCount == 1, "the watch");

        _server.Store.Update("pods", "default", "pending", p => { p["spec"]!["nodeName"] = "n1"; return true; });
        _server.Store.Put("pods", Pod("elsewhere", "10.244.2.2", node: "n2"));
        _server.Store.Delete("pods", "default", "mine");
        await Eventually(() => seen.Count == 3, "the bound pod and the deletion");

        Assert.Equal(["add mine", "add pending", "delete mine"], seen);
        Assert.Equal(["pending"], informer.Cache.List().Select(p => p.Metadata.Name));
        Assert.Contains(_server.Requests, r => r.Contains("watch=true") && r.Contains("fieldSelector=spec.nodeName%3Dn1"));
    }

    [Fact]
    public async Task FailingServer_BacksOffWithGrowingDelays_ThenSyncs_AgainstFakeApiServer()
    {
        _server.Store.Put("pods", Pod("a", "10.244.1.1"));
        _server.FailNext(4);
        var started = DateTime.UtcNow;

        await StartInformerAsync(initialBackoff: TimeSpan.FromMilliseconds(40));

        // Delays of at least 20, 40, 80 and 160 ms (the upper halves of 40, 80, 160, 320).
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(300), $"synced after {(DateTime.UtcNow - started).TotalMilliseconds} ms");
        Assert.Equal(4, _errors.Count);
        Assert.Equal(["add a"], _seen);
    }
}
