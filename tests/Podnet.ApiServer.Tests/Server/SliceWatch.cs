using k8s;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// The EndpointSlices of one namespace as a watch delivers them from a resourceVersion on: the
/// live ones, and the most one Service had at once, counted at every event (not sampled), so a
/// second writer's slice is seen even if it lives for one event. Waits are bounded (30 s) and
/// wake on events, never on a fixed sleep.
/// </summary>
internal sealed class SliceWatch : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, V1EndpointSlice> _live = [];
    private readonly Dictionary<string, int> _most = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failed;
    private Task _run = Task.CompletedTask;

    private SliceWatch()
    {
    }

    public static SliceWatch Start(Kubernetes client, string ns, string resourceVersion)
    {
        var watch = new SliceWatch();
        watch._run = Task.Run(() => watch.RunAsync(client, ns, resourceVersion));
        return watch;
    }

    /// <summary>The live slices of <paramref name="service"/> once <paramref name="done"/> holds for them.</summary>
    public async Task<List<V1EndpointSlice>> UntilAsync(string service, Func<List<V1EndpointSlice>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_failed is not null)
                {
                    throw new InvalidOperationException("the EndpointSlice watch failed", _failed);
                }
                var slices = Of(service);
                if (done(slices))
                {
                    return slices;
                }
                changed = _changed.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(left)) != changed)
            {
                throw new TimeoutException($"timed out waiting for {what}; the slices of {service}: {Describe(service)}");
            }
        }
    }

    /// <summary>The most slices <paramref name="service"/> had at once since the watch's resourceVersion.</summary>
    public int MostAtOnce(string service)
    {
        lock (_lock)
        {
            return _most.GetValueOrDefault(service);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
    }

    private async Task RunAsync(Kubernetes client, string ns, string resourceVersion)
    {
        try
        {
            // A watch the server ends is resumed from the last version seen, so no event is missed.
            while (!_stop.IsCancellationRequested)
            {
                await foreach (var (type, slice) in client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(ns, resourceVersion: resourceVersion, cancellationToken: _stop.Token))
                {
                    if (type == WatchEventType.Error)
                    {
                        throw new InvalidOperationException("the watch sent an ERROR event");
                    }
                    resourceVersion = slice.Metadata.ResourceVersion;
                    Apply(type, slice);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                _failed = e;
                Signal();
            }
        }
    }

    private void Apply(WatchEventType type, V1EndpointSlice slice)
    {
        lock (_lock)
        {
            if (type == WatchEventType.Deleted)
            {
                _live.Remove(slice.Metadata.Name);
            }
            else if (type is WatchEventType.Added or WatchEventType.Modified)
            {
                _live[slice.Metadata.Name] = slice;
            }
            if (ServiceOf(slice) is { } service)
            {
                _most[service] = Math.Max(_most.GetValueOrDefault(service), Of(service).Count);
            }
            Signal();
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private List<V1EndpointSlice> Of(string service) =>
        _live.Values.Where(s => ServiceOf(s) == service).OrderBy(s => s.Metadata.Name, StringComparer.Ordinal).ToList();

    private static string? ServiceOf(V1EndpointSlice slice) => Label(slice, "kubernetes.io/service-name");

    private static string? Label(V1EndpointSlice slice, string key) =>
        slice.Metadata.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    private string Describe(string service)
    {
        lock (_lock)
        {
            var slices = Of(service);
            return slices.Count == 0 ? "none" : string.Join("; ", slices.Select(s =>
                $"{s.Metadata.Name} ({Label(s, "endpointslice.kubernetes.io/managed-by") ?? "no manager"}): "
                + string.Join(",", (s.Endpoints ?? []).Select(e => e.Addresses[0] + (e.Conditions?.Ready == true ? "" : "(not ready)")))
                + " ports " + string.Join(",", (s.Ports ?? []).Select(p => $"{p.Name}:{p.Port}/{p.Protocol}"))));
        }
    }
}
