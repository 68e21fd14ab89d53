using System.Threading.Channels;

namespace Podnet.Controllers.Informers;

/// <summary>
/// A level-triggered work queue: any number of <see cref="Enqueue()"/> calls between two syncs
/// wake one sync. The wake-up is a channel of capacity one whose extra writes are dropped; the
/// keys marked dirty (or "everything") are handed to the sync as a set.
/// </summary>
/// <remarks>
/// A sync that throws is retried after a backoff with everything marked dirty, so a failed
/// write is never lost; a successful sync resets the backoff. With a <see cref="MinInterval"/>,
/// the next sync starts no sooner than that after the last one ended: under a storm of events
/// (hundreds of pods changing) each sync then takes in a batch of them instead of one, so the
/// whole-state recompute and its writes happen a few times, not once per event.
/// </remarks>
public sealed class CoalescingQueue
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _lock = new();
    private HashSet<string> _dirty = new(StringComparer.Ordinal);
    private bool _all;

    /// <summary>The least time between the end of one sync and the start of the next (zero: none).</summary>
    public TimeSpan MinInterval { get; init; }

    /// <summary>Marks everything dirty.</summary>
    public void Enqueue()
    {
        lock (_lock)
        {
            _all = true;
        }
        _wake.Writer.TryWrite(true);
    }

    /// <summary>Marks one key (such as namespace/name of a Service) dirty.</summary>
    public void Enqueue(string key)
    {
        lock (_lock)
        {
            _dirty.Add(key);
        }
        _wake.Writer.TryWrite(true);
    }

    /// <summary>
    /// Runs <paramref name="sync"/> once per wake-up until cancelled. The sync gets the dirty keys,
    /// or null when everything is dirty.
    /// </summary>
    public async Task RunAsync(Func<IReadOnlySet<string>?, CancellationToken, Task> sync, Backoff backoff, Action<Exception>? onError, CancellationToken cancellationToken)
    {
        while (await _wake.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            _wake.Reader.TryRead(out _);
            IReadOnlySet<string>? keys;
            lock (_lock)
            {
                keys = _all ? null : _dirty;
                _dirty = new HashSet<string>(StringComparer.Ordinal);
                _all = false;
            }
            try
            {
                await sync(keys, cancellationToken).ConfigureAwait(false);
                backoff.Reset();
                if (MinInterval > TimeSpan.Zero)
                {
                    await Task.Delay(MinInterval, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                onError?.Invoke(e);
                await Task.Delay(backoff.Next(), cancellationToken).ConfigureAwait(false);
                Enqueue();
            }
        }
    }
}
