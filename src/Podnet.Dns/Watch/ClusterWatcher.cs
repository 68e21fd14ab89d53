using System.Diagnostics;
using k8s;
using k8s.Models;
using Podnet.Controllers.Informers;
using Podnet.Dns.Index;
using Podnet.Dns.Records;
using Podnet.Dns.Server;

namespace Podnet.Dns.Watch;

/// <summary>The list/watch sources the watcher reads; <see cref="FromClient"/> makes them from an API client.</summary>
public sealed record WatchSources(IListWatch<V1Service> Services, IListWatch<V1EndpointSlice> EndpointSlices, IListWatch<V1Namespace> Namespaces, IListWatch<V1Pod>? Pods)
{
    /// <summary>Pods are watched only for `pods verified`: the other modes need nothing of them, and a pod watch costs memory and API load.</summary>
    /// <remarks>Objects are slimmed as they arrive (<see cref="Slim"/>), so the informers' caches hold only what DNS reads.</remarks>
    public static WatchSources FromClient(IKubernetes client, PodsMode pods) => new(
        new SlimListWatch<V1Service>(ListWatches.Services(client), Slim.Service),
        new SlimListWatch<V1EndpointSlice>(ListWatches.EndpointSlices(client), Slim.EndpointSlice),
        new SlimListWatch<V1Namespace>(ListWatches.Namespaces(client), Slim.Namespace),
        pods == PodsMode.Verified ? new SlimListWatch<V1Pod>(ListWatches.Pods(client), Slim.Pod) : null);
}

/// <summary>
/// Keeps the record index in step with the API: informers over Services, EndpointSlices,
/// Namespaces (and Pods for `pods verified`); every event marks the state dirty and one
/// coalescing worker rebuilds the whole index from the caches and publishes it. Until every
/// informer has listed once, nothing is published (the zone answers SERVFAIL, /ready is 503).
/// </summary>
/// <remarks>
/// Level-triggered and whole: a rebuild of 10,000 Services takes about 100-200 ms of CPU,
/// inside the one second a change must be answered in; batching with a short minimum interval,
/// stretched to the rebuild's own length when that is longer, keeps a storm of events from
/// rebuilding once per event or taking more than half a core.
/// </remarks>
public sealed class ClusterWatcher
{
    private readonly WatchSources _sources;
    private readonly DnsOptions _options;
    private readonly IndexHolder _holder;
    private readonly DnsCounters _counters;
    private readonly Action<string>? _log;
    private readonly Func<DateTimeOffset> _clock;
    private volatile bool _ready;

    public ClusterWatcher(WatchSources sources, DnsOptions options, IndexHolder holder, DnsCounters counters, Action<string>? log = null, Func<DateTimeOffset>? clock = null)
    {
        _sources = sources;
        _options = options;
        _holder = holder;
        _counters = counters;
        _log = log;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    /// <summary>True once the first full sync is published.</summary>
    public bool Ready => _ready;

    /// <summary>The least time between two rebuilds.</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var informerOptions = new InformerOptions { OnError = e => _log?.Invoke($"watch: {e.Message}") };
        var services = new Informer<V1Service>(_sources.Services, informerOptions);
        var slices = new Informer<V1EndpointSlice>(_sources.EndpointSlices, informerOptions);
        var namespaces = new Informer<V1Namespace>(_sources.Namespaces, informerOptions);
        var pods = _sources.Pods is { } podSource ? new Informer<V1Pod>(podSource, informerOptions) : null;
        var queue = new CoalescingQueue { MinInterval = MinInterval };
        Subscribe(services, queue);
        Subscribe(slices, queue);
        Subscribe(namespaces, queue);
        if (pods is not null)
        {
            Subscribe(pods, queue);
        }
        var running = new List<Task> { services.RunAsync(cancellationToken), slices.RunAsync(cancellationToken), namespaces.RunAsync(cancellationToken) };
        if (pods is not null)
        {
            running.Add(pods.RunAsync(cancellationToken));
        }
        running.Add(queue.RunAsync(
            async (_, ct) =>
            {
                if (services.HasSynced && slices.HasSynced && namespaces.HasSynced && (pods?.HasSynced ?? true))
                {
                    var started = Stopwatch.GetTimestamp();
                    Rebuild(services.Cache, slices.Cache, namespaces.Cache, pods?.Cache);
                    // Under a storm of events, rebuilds take at most half the time: a rebuild
                    // that outlasts MinInterval is followed by a pause as long as itself.
                    var took = Stopwatch.GetElapsedTime(started);
                    if (took > MinInterval)
                    {
                        await Task.Delay(took - MinInterval, ct).ConfigureAwait(false);
                    }
                }
            },
            new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5)),
            e => _log?.Invoke($"index rebuild failed: {e.Message}"),
            cancellationToken));
        // An informer reports synced only after its list's handlers have run, and an empty list
        // runs none: each informer's sync is itself a reason to look again, or the last one to
        // sync could leave the zone unpublished (SERVFAIL, /ready 503) until some later event,
        // which may never come (the DNS pod's own readiness waits for this publish).
        running.Add(EnqueueWhenSyncedAsync(services, queue, cancellationToken));
        running.Add(EnqueueWhenSyncedAsync(slices, queue, cancellationToken));
        running.Add(EnqueueWhenSyncedAsync(namespaces, queue, cancellationToken));
        if (pods is not null)
        {
            running.Add(EnqueueWhenSyncedAsync(pods, queue, cancellationToken));
        }
        queue.Enqueue();
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task EnqueueWhenSyncedAsync<T>(Informer<T> informer, CoalescingQueue queue, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        await informer.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
        queue.Enqueue();
    }

    private static void Subscribe<T>(Informer<T> informer, CoalescingQueue queue)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        informer.AddHandlers(new InformerHandlers<T>(_ => queue.Enqueue(), (_, _) => queue.Enqueue(), _ => queue.Enqueue()));
    }

    private void Rebuild(InformerCache<V1Service> services, InformerCache<V1EndpointSlice> slices, InformerCache<V1Namespace> namespaces, InformerCache<V1Pod>? pods)
    {
        var snapshot = new DnsSnapshot(
            [.. namespaces.List().Select(n => n.Metadata.Name)],
            [.. services.List().Select(Projection.Service)],
            [.. slices.List().Select(Projection.EndpointSlice).OfType<DnsEndpointSlice>()],
            pods is null ? [] : [.. pods.List().Select(Projection.Pod)]);
        var index = IndexBuilder.Build(snapshot, _options, (uint)_clock().ToUnixTimeSeconds());
        _holder.Publish(index);
        Interlocked.Increment(ref _counters.Syncs);
        Volatile.Write(ref _counters.IndexNames, index.NameCount);
        if (!_ready)
        {
            _ready = true;
            _log?.Invoke($"synced: {snapshot.Services.Count} services, {snapshot.EndpointSlices.Count} endpoint slices, {snapshot.Namespaces.Count} namespaces, {index.NameCount} names");
        }
    }
}
