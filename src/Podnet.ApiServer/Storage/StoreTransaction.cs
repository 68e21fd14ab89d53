using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Storage;

/// <summary>
/// The changes of one write, seen by later reads in the same write; committed together.
/// </summary>
internal sealed class StoreTransaction(ObjectStore store, long resourceVersion)
{
    private readonly Dictionary<(string, string), StoredObject?> _pending = [];

    public List<StoreEvent> Events { get; } = [];

    /// <summary>Set for a dry run: the body runs (validation, allocation) but nothing is committed.</summary>
    public bool Discard { get; set; }

    /// <summary>The version the last change of this transaction got (the store's, if none).</summary>
    public long ResourceVersion { get; private set; } = resourceVersion;

    public StoredObject? Get(string resource, string ns, string name)
    {
        var key = (resource, StoredObject.KeyOf(ns, name));
        return _pending.TryGetValue(key, out var pending) ? pending : store.Get(resource, ns, name);
    }

    /// <summary>The objects of a resource as this transaction sees them.</summary>
    public List<StoredObject> List(string resource, string? ns)
    {
        var items = store.List(resource, ns).Items.ToDictionary(o => o.Key);
        foreach (var ((r, key), value) in _pending)
        {
            if (r != resource)
            {
                continue;
            }
            if (value is null)
            {
                items.Remove(key);
            }
            else if (ns is null || value.Namespace == ns)
            {
                items[key] = value;
            }
        }
        return items.Values.OrderBy(o => o.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Stores <paramref name="obj"/> (created or replaced), setting its resourceVersion; an
    /// object over <see cref="Http.RequestLimits.MaxObjectBytes"/> is refused (413), as etcd
    /// refuses it to kube-apiserver, and the whole transaction with it.
    /// </summary>
    public StoredObject Put(string resource, JsonObject obj)
    {
        var stored = StoredObject.From(resource, obj, ++ResourceVersion);
        if (stored.Json.Length > Http.RequestLimits.MaxObjectBytes)
        {
            throw Http.RequestLimits.ObjectTooLarge(stored.Json.Length);
        }
        var previous = Get(resource, stored.Namespace, stored.Name);
        _pending[(resource, stored.Key)] = stored;
        Events.Add(new StoreEvent(previous is not null ? StoreEventType.Modified : StoreEventType.Added, stored, previous));
        return stored;
    }

    /// <summary>Removes an object; <paramref name="last"/> is its final state, sent to watchers.</summary>
    public StoredObject Delete(string resource, JsonObject last)
    {
        var stored = StoredObject.From(resource, last, ++ResourceVersion);
        var previous = Get(resource, stored.Namespace, stored.Name);
        _pending[(resource, stored.Key)] = null;
        Events.Add(new StoreEvent(StoreEventType.Deleted, stored, previous));
        return stored;
    }
}
