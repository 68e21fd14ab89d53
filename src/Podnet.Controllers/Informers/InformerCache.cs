using k8s;
using k8s.Models;

namespace Podnet.Controllers.Informers;

/// <summary>
/// The informer's local copy of the objects, keyed by namespace/name, with extra indexes
/// (such as pods by spec.nodeName). Thread-safe: one writer (the informer), many readers.
/// </summary>
public sealed class InformerCache<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<T, IEnumerable<string>>> _indexers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _indexes = new(StringComparer.Ordinal);

    public static string KeyOf(T item) => KeyOf(item.Metadata.NamespaceProperty, item.Metadata.Name);

    public static string KeyOf(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}";

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Adds an index; <paramref name="keys"/> gives the values an object is filed under.</summary>
    public void AddIndex(string name, Func<T, IEnumerable<string>> keys)
    {
        lock (_lock)
        {
            _indexers[name] = keys;
            _indexes[name] = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (key, item) in _items)
            {
                File(name, key, item);
            }
        }
    }

    public T? Get(string? ns, string name)
    {
        lock (_lock)
        {
            return _items.GetValueOrDefault(KeyOf(ns, name));
        }
    }

    public IReadOnlyList<T> List()
    {
        lock (_lock)
        {
            return [.. _items.Values];
        }
    }

    public IReadOnlyList<T> ByIndex(string index, string value)
    {
        lock (_lock)
        {
            if (!_indexes.TryGetValue(index, out var byValue))
            {
                throw new ArgumentException($"no index named '{index}'", nameof(index));
            }
            return byValue.TryGetValue(value, out var keys) ? [.. keys.Select(k => _items[k])] : [];
        }
    }

    /// <summary>Stores <paramref name="item"/>; returns what was there before, if anything.</summary>
    internal T? Upsert(T item)
    {
        lock (_lock)
        {
            var key = KeyOf(item);
            var old = RemoveLocked(key);
            _items[key] = item;
            foreach (var name in _indexers.Keys)
            {
                File(name, key, item);
            }
            return old;
        }
    }

    internal T? Remove(string key)
    {
        lock (_lock)
        {
            return RemoveLocked(key);
        }
    }

    internal IReadOnlyList<string> Keys()
    {
        lock (_lock)
        {
            return [.. _items.Keys];
        }
    }

    private T? RemoveLocked(string key)
    {
        if (!_items.Remove(key, out var old))
        {
            return null;
        }
        foreach (var (name, keys) in _indexers)
        {
            foreach (var value in keys(old))
            {
                if (_indexes[name].TryGetValue(value, out var set) && set.Remove(key) && set.Count == 0)
                {
                    _indexes[name].Remove(value);
                }
            }
        }
        return old;
    }

    private void File(string name, string key, T item)
    {
        foreach (var value in _indexers[name](item))
        {
            if (!_indexes[name].TryGetValue(value, out var set))
            {
                _indexes[name][value] = set = new HashSet<string>(StringComparer.Ordinal);
            }
            set.Add(key);
        }
    }
}
