using System.Threading.Channels;

namespace Podnet.ApiServer.Storage;

/// <summary>
/// The recent history of committed changes and the live watchers that follow it.
/// </summary>
/// <remarks>
/// The history is a bounded window (kube-apiserver's watch cache plays this role): a watch
/// may start from any resourceVersion at or above <see cref="FloorResourceVersion"/>; older
/// ones get 410 Expired. After a restart the window starts empty at the stored version, so a
/// client that saw everything before the restart resumes, and one that was behind relists.
/// Callers serialize <see cref="Publish"/> with the store's cache lock, which also makes a
/// snapshot plus <see cref="Subscribe"/> atomic.
/// </remarks>
internal sealed class WatchHub(int capacity, long startResourceVersion)
{
    private readonly Queue<StoreEvent> _history = new();
    private readonly List<Subscription> _subscribers = [];

    /// <summary>The oldest resourceVersion a watch can start from.</summary>
    public long FloorResourceVersion { get; private set; } = startResourceVersion;

    public int Capacity { get; } = capacity;

    public void Publish(IReadOnlyList<StoreEvent> events)
    {
        foreach (var e in events)
        {
            _history.Enqueue(e);
            while (_history.Count > Capacity)
            {
                FloorResourceVersion = _history.Dequeue().Object.ResourceVersion;
            }
        }
        lock (_subscribers)
        {
            foreach (var s in _subscribers)
            {
                foreach (var e in events)
                {
                    if (e.Object.Resource == s.Resource && !s.Writer.TryWrite(e))
                    {
                        // A watcher this far behind is cut off (its stream ends) rather than
                        // allowed to hold the server's memory; it resumes or relists, as upstream.
                        s.Writer.TryComplete();
                    }
                }
            }
        }
    }

    /// <summary>
    /// Follows <paramref name="resource"/> from just after <paramref name="fromResourceVersion"/>;
    /// null when that version has left the window.
    /// </summary>
    public Subscription? Subscribe(string resource, long fromResourceVersion)
    {
        if (fromResourceVersion < FloorResourceVersion)
        {
            return null;
        }
        var subscription = new Subscription(this, resource);
        foreach (var e in _history)
        {
            if (e.Object.ResourceVersion > fromResourceVersion && e.Object.Resource == resource && !subscription.Writer.TryWrite(e))
            {
                subscription.Writer.TryComplete();
                break;
            }
        }
        lock (_subscribers)
        {
            _subscribers.Add(subscription);
        }
        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_subscribers)
        {
            _subscribers.Remove(subscription);
        }
    }

    internal sealed class Subscription(WatchHub hub, string resource) : IDisposable
    {
        /// <summary>Events a watcher may have queued before it is cut off.</summary>
        public const int Backlog = 50_000;

        private readonly Channel<StoreEvent> _channel = Channel.CreateBounded<StoreEvent>(new BoundedChannelOptions(Backlog)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        public string Resource { get; } = resource;

        public ChannelWriter<StoreEvent> Writer => _channel.Writer;

        public ChannelReader<StoreEvent> Reader => _channel.Reader;

        public void Dispose()
        {
            hub.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}
