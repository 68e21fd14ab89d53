namespace Podnet.Controllers.Informers;

/// <summary>
/// Exponential backoff with jitter: each delay doubles up to a cap, and is drawn uniformly from
/// its upper half, so that many clients that failed together do not retry together.
/// </summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Random _random;
    private TimeSpan _current;

    public Backoff(TimeSpan initial, TimeSpan max, Random? random = null)
    {
        if (initial <= TimeSpan.Zero || max < initial)
        {
            throw new ArgumentOutOfRangeException(nameof(initial), "need 0 < initial <= max");
        }
        _initial = initial;
        _max = max;
        _random = random ?? Random.Shared;
        _current = initial;
    }

    /// <summary>The delay before the next attempt; the one after it will be about twice as long.</summary>
    public TimeSpan Next()
    {
        var ceiling = _current;
        _current = TimeSpan.FromTicks(Math.Min(_max.Ticks, _current.Ticks * 2));
        var half = ceiling.Ticks / 2;
        return TimeSpan.FromTicks(half + (long)(_random.NextDouble() * (ceiling.Ticks - half)));
    }

    /// <summary>After a success: the next failure waits the initial delay again.</summary>
    public void Reset() => _current = _initial;
}
