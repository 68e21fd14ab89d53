using k8s;
using k8s.Models;

namespace Podnet.Controllers.Informers;

/// <summary>Typed callbacks for changes the informer sees; each may be null.</summary>
public sealed record InformerHandlers<T>(Action<T>? OnAdd = null, Action<T, T>? OnUpdate = null, Action<T>? OnDelete = null);

public sealed record InformerOptions
{
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A watch that ends this soon without an event counts as a failure (backoff), so a server that closes at once is not hammered.</summary>
    public TimeSpan MinWatchDuration { get; init; } = TimeSpan.FromSeconds(1);

    public Random? Random { get; init; }

    /// <summary>Told about every error the informer recovers from.</summary>
    public Action<Exception>? OnError { get; init; }
}

/// <summary>
/// Keeps a local cache of one resource in step with the API: list, then watch from the list's
/// resourceVersion; on a clean end of the watch, watch again from the last resourceVersion seen;
/// on an ERROR event with 410 Expired (or any list failure), list again; on other errors, back off
/// with jitter and retry. Handlers run on the informer's loop, in event order.
/// </summary>
/// <remarks>
/// A relist replaces the cache: objects missing from the new list are reported deleted, changed
/// ones (by resourceVersion) updated, new ones added, as client-go's Replace does. Handlers must
/// be quick (typically: enqueue on a <see cref="CoalescingQueue"/>).
/// </remarks>
public sealed class Informer<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IListWatch<T> _source;
    private readonly InformerOptions _options;
    private readonly List<InformerHandlers<T>> _handlers = [];
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _resourceVersion;

    public Informer(IListWatch<T> source, InformerOptions? options = null)
    {
        _source = source;
        _options = options ?? new InformerOptions();
    }

    public InformerCache<T> Cache { get; } = new();

    /// <summary>The resourceVersion the cache is at (null before the first list).</summary>
    public string? ResourceVersion => Volatile.Read(ref _resourceVersion);

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>How many times the informer has listed (the first list included).</summary>
    public int ListCount { get; private set; }

    public void AddHandlers(InformerHandlers<T> handlers) => _handlers.Add(handlers);

    /// <summary>Completes once the first list is in the cache.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(_options.InitialBackoff, _options.MaxBackoff, _options.Random);
        var needList = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    await ListAsync(cancellationToken).ConfigureAwait(false);
                    needList = false;
                }
                var (expired, events, elapsed) = await WatchAsync(cancellationToken).ConfigureAwait(false);
                needList = expired;
                if (expired || events > 0 || elapsed >= _options.MinWatchDuration)
                {
                    backoff.Reset();
                    continue;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _options.OnError?.Invoke(e);
            }
            try
            {
                await Task.Delay(backoff.Next(), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task ListAsync(CancellationToken cancellationToken)
    {
        var list = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
        ListCount++;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in list.Items)
        {
            seen.Add(InformerCache<T>.KeyOf(item));
            Apply(WatchEventType.Modified, item);
        }
        foreach (var key in Cache.Keys().Where(k => !seen.Contains(k)))
        {
            if (Cache.Remove(key) is { } gone)
            {
                _handlers.ForEach(h => h.OnDelete?.Invoke(gone));
            }
        }
        Volatile.Write(ref _resourceVersion, list.ResourceVersion);
        _synced.TrySetResult();
    }

    private async Task<(bool Expired, int Events, TimeSpan Elapsed)> WatchAsync(CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var events = 0;
        await foreach (var e in _source.WatchAsync(ResourceVersion ?? "", cancellationToken).ConfigureAwait(false))
        {
            if (e.Type == WatchEventType.Error)
            {
                if (e.Status?.Code == 410)
                {
                    return (true, events, DateTime.UtcNow - started);
                }
                throw new InvalidOperationException($"watch of {typeof(T).Name} failed: {e.Status?.Code} {e.Status?.Reason} {e.Status?.Message}");
            }
            events++;
            if (e.Object is null)
            {
                continue;
            }
            if (e.Type != WatchEventType.Bookmark)
            {
                Apply(e.Type, e.Object);
            }
            if (e.Object.Metadata?.ResourceVersion is { Length: > 0 } rv)
            {
                Volatile.Write(ref _resourceVersion, rv);
            }
        }
        return (false, events, DateTime.UtcNow - started);
    }

    private void Apply(WatchEventType type, T item)
    {
        if (type == WatchEventType.Deleted)
        {
            var removed = Cache.Remove(InformerCache<T>.KeyOf(item));
            _handlers.ForEach(h => h.OnDelete?.Invoke(removed ?? item));
            return;
        }
        var old = Cache.Upsert(item);
        if (old is null)
        {
            _handlers.ForEach(h => h.OnAdd?.Invoke(item));
        }
        else if (old.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
        {
            _handlers.ForEach(h => h.OnUpdate?.Invoke(old, item));
        }
    }
}
