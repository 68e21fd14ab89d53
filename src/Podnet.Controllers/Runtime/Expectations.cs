namespace Podnet.Controllers.Runtime;

/// <summary>
/// Writes a controller made that its cache has not shown yet, by key, each forgotten after a
/// timeout (as upstream's controller expectations), so a sync that runs before the watch
/// catches up neither repeats nor undoes them.
/// </summary>
internal sealed class Expectations<TValue>(TimeSpan timeout)
{
    private readonly Dictionary<string, (TValue Value, DateTime Since)> _items = new(StringComparer.Ordinal);

    public void Set(string key, TValue value) => _items[key] = (value, DateTime.UtcNow);

    public void Remove(string key) => _items.Remove(key);

    /// <summary>Drops expired entries and those <paramref name="satisfied"/> says the cache now shows.</summary>
    public void Prune(Func<string, TValue, bool> satisfied)
    {
        var now = DateTime.UtcNow;
        foreach (var (key, (value, since)) in _items.ToList())
        {
            if (now - since > timeout || satisfied(key, value))
            {
                _items.Remove(key);
            }
        }
    }

    public bool TryGet(string key, out TValue value)
    {
        if (_items.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public IEnumerable<KeyValuePair<string, TValue>> Items => _items.Select(i => KeyValuePair.Create(i.Key, i.Value.Value));

    public int Count => _items.Count;
}
