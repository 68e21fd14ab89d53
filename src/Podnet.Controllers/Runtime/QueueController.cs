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
/// A controller on the shared <see cref="SyncLoop"/>: informer events wake it; after the caches
/// have listed, each sync recomputes the whole desired state from them and writes the
/// difference. A failed sync is retried with backoff.
/// </summary>
internal abstract class QueueController : IController
{
    private readonly SyncLoop _loop;

    protected QueueController(SharedInformers informers, ControllerOptions options)
    {
        Informers = informers;
        Options = options;
        _loop = new SyncLoop(GetType().Name, (_, ct) => SyncAsync(ct), options.MinSyncInterval)
        {
            OnError = e => Options.Log?.Invoke($"{Name}: sync failed, retrying: {e.Message}"),
        };
    }

    public abstract string Name { get; }

    protected SharedInformers Informers { get; }

    protected ControllerOptions Options { get; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Informers.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
        await _loop.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Recomputes from the caches and writes what differs.</summary>
    protected abstract Task SyncAsync(CancellationToken cancellationToken);

    /// <summary>Any change of <paramref name="informer"/>'s objects wakes a sync.</summary>
    protected void WakeOn<T>(Informer<T> informer)
        where T : class, IKubernetesObject<V1ObjectMeta> => _loop.WakeOn(informer);

    /// <summary>Wakes a sync from outside the informers (an expectation that timed out).</summary>
    protected void Wake() => _loop.Wake();
}
