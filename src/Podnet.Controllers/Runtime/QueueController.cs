using k8s;
using k8s.Models;
using Podnet.Controllers.Informers;

namespace Podnet.Controllers.Runtime;

/// <summary>A controller the manager can run: watch, compute, apply, until cancelled.</summary>
public interface IController
{
    string Name { get; }

    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The shape every controller here shares: informer events mark the state dirty on a
/// <see cref="CoalescingQueue"/>; one worker waits for the caches, then recomputes the whole
/// desired state from them and writes the difference. A failed sync is retried with backoff.
/// </summary>
internal abstract class QueueController : IController
{
    private readonly CoalescingQueue _queue;

    protected QueueController(SharedInformers informers, ControllerOptions options)
    {
        Informers = informers;
        Options = options;
        _queue = new CoalescingQueue { MinInterval = options.MinSyncInterval };
    }

    public abstract string Name { get; }

    protected SharedInformers Informers { get; }

    protected ControllerOptions Options { get; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Informers.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
        _queue.Enqueue();
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
        await _queue.RunAsync((_, ct) => SyncAsync(ct), backoff, e => Options.Log?.Invoke($"{Name}: sync failed, retrying: {e.Message}"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Recomputes from the caches and writes what differs.</summary>
    protected abstract Task SyncAsync(CancellationToken cancellationToken);

    /// <summary>Any change of <paramref name="informer"/>'s objects wakes a sync.</summary>
    protected void WakeOn<T>(Informer<T> informer)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        informer.AddHandlers(new InformerHandlers<T>(_ => _queue.Enqueue(), (_, _) => _queue.Enqueue(), _ => _queue.Enqueue()));

    /// <summary>Wakes a sync from outside the informers (an expectation that timed out).</summary>
    protected void Wake() => _queue.Enqueue();
}
