using k8s;
using k8s.Models;
using Podnet.Controllers.Informers;

namespace Podnet.Controllers.Runtime;

/// <summary>What a sync is asked to do: everything (<see cref="Keys"/> null) or only the keys marked dirty.</summary>
public readonly record struct SyncRequest(IReadOnlySet<string>? Keys)
{
    public bool Full => Keys is null;
}

/// <summary>
/// The one loop every watch-driven component runs: informer events mark keys (or everything)
/// dirty on a <see cref="CoalescingQueue"/>; one worker waits until the informers have listed,
/// syncs everything once, then syncs whatever was marked since, in batches no closer together
/// than <see cref="MinInterval"/>. A sync that throws is logged and retried after a backoff as
/// a full sync, so a failed transaction is never half-remembered. A periodic full resync, when
/// asked for, catches what no event reports (a process that died, time passing).
/// </summary>
/// <remarks>
/// Components differ only in what a sync does and what they watch: the controllers, the agent's
/// routing and pod runtime, the service proxy and the policy engine all wire this, so batching,
/// backoff and recovery behave the same everywhere and are tested once.
/// </remarks>
public sealed class SyncLoop
{
    private readonly CoalescingQueue _queue;
    private readonly Func<SyncRequest, CancellationToken, Task> _sync;
    private readonly List<Func<CancellationToken, Task>> _waitFor = [];

    public SyncLoop(string name, Func<SyncRequest, CancellationToken, Task> sync, TimeSpan minInterval = default)
    {
        Name = name;
        _sync = sync;
        MinInterval = minInterval;
        _queue = new CoalescingQueue { MinInterval = minInterval };
    }

    public string Name { get; }

    public TimeSpan MinInterval { get; }

    /// <summary>Where failures are reported ("NAME: sync failed, retrying: …").</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Called with each failure instead of <see cref="Log"/>, when set.</summary>
    public Action<Exception>? OnError { get; init; }

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A full sync at least this often (zero: only on events).</summary>
    public TimeSpan ResyncPeriod { get; init; }

    /// <summary>Syncs completed, full or partial (for tests and metrics).</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>Syncs that threw.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    private long _syncs;
    private long _failures;

    /// <summary>
    /// Any change of <paramref name="informer"/>'s objects wakes a sync: of the key <paramref name="key"/>
    /// gives (null from it, or no function: everything). The loop's first sync waits for it to list.
    /// </summary>
    public SyncLoop WakeOn<T>(Informer<T> informer, Func<T, string?>? key = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        void Mark(T item)
        {
            if (key?.Invoke(item) is { } k)
            {
                _queue.Enqueue(k);
            }
            else
            {
                _queue.Enqueue();
            }
        }
        informer.AddHandlers(new InformerHandlers<T>(Mark, (old, now) =>
        {
            Mark(old);
            Mark(now);
        }, Mark));
        _waitFor.Add(informer.WaitForSyncAsync);
        return this;
    }

    /// <summary>Also waits for <paramref name="informer"/> before the first sync, without waking on its events.</summary>
    public SyncLoop WaitFor<T>(Informer<T> informer)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        _waitFor.Add(informer.WaitForSyncAsync);
        return this;
    }

    /// <summary>Marks everything dirty.</summary>
    public void Wake() => _queue.Enqueue();

    /// <summary>Marks one key dirty.</summary>
    public void Wake(string key) => _queue.Enqueue(key);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_waitFor.Select(w => w(cancellationToken))).ConfigureAwait(false);
        _queue.Enqueue();
        using var ticker = ResyncPeriod > TimeSpan.Zero ? new PeriodicTimer(ResyncPeriod) : null;
        if (ticker is not null)
        {
            _ = Task.Run(async () =>
            {
                while (await ticker.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    _queue.Enqueue();
                }
            }, cancellationToken);
        }
        var backoff = new Backoff(InitialBackoff, MaxBackoff);
        await _queue.RunAsync(async (keys, ct) =>
        {
            await _sync(new SyncRequest(keys), ct).ConfigureAwait(false);
            Interlocked.Increment(ref _syncs);
        }, backoff, e =>
        {
            Interlocked.Increment(ref _failures);
            if (OnError is not null)
            {
                OnError(e);
            }
            else
            {
                Log?.Invoke($"{Name}: sync failed, retrying: {e.Message}");
            }
        }, cancellationToken).ConfigureAwait(false);
    }
}
