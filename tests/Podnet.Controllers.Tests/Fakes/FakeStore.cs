using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;

namespace Podnet.Controllers.Tests.Fakes;

/// <summary>A change as the store saw it; <see cref="Previous"/> lets a filtered watch tell entering from leaving.</summary>
internal sealed record FakeEvent(string Type, JsonObject Object, JsonObject? Previous);

/// <summary>
/// The objects behind <see cref="FakeApiServer"/>: one global resourceVersion, an event
/// history that can be compacted (so old resourceVersions expire), and live watch channels.
/// A stand-in for the lab's API server, which does not exist yet.
/// </summary>
internal sealed class FakeStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SortedDictionary<string, JsonObject>> _objects = [];
    private readonly List<(long Rv, string Resource, FakeEvent Event)> _history = [];
    private readonly List<(string Resource, Channel<FakeEvent> Channel)> _watchers = [];
    private long _rv = 100;
    private long _compactedThrough;

    public static readonly Dictionary<string, (string ApiVersion, string Kind)> Kinds = new()
    {
        ["pods"] = ("v1", "Pod"),
        ["nodes"] = ("v1", "Node"),
        ["services"] = ("v1", "Service"),
        ["endpoints"] = ("v1", "Endpoints"),
        ["namespaces"] = ("v1", "Namespace"),
        ["events"] = ("v1", "Event"),
        ["deployments"] = ("apps/v1", "Deployment"),
        ["replicasets"] = ("apps/v1", "ReplicaSet"),
        ["statefulsets"] = ("apps/v1", "StatefulSet"),
        ["controllerrevisions"] = ("apps/v1", "ControllerRevision"),
        ["poddisruptionbudgets"] = ("policy/v1", "PodDisruptionBudget"),
        ["endpointslices"] = ("discovery.k8s.io/v1", "EndpointSlice"),
        ["leases"] = ("coordination.k8s.io/v1", "Lease"),
        ["daemonsets"] = ("apps/v1", "DaemonSet"),
        ["serviceaccounts"] = ("v1", "ServiceAccount"),
        ["configmaps"] = ("v1", "ConfigMap"),
    };

    public long ResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return _rv;
            }
        }
    }

    /// <summary>Creates or replaces an object (typed or JSON); returns it as stored.</summary>
    public JsonObject Put(string resource, object item)
    {
        var json = item as JsonObject ?? JsonNode.Parse(KubernetesJson.Serialize(item))!.AsObject();
        lock (_lock)
        {
            var meta = json["metadata"]!.AsObject();
            var key = Key(meta);
            var existed = Objects(resource).TryGetValue(key, out var previous);
            meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
            meta["uid"] ??= previous?["metadata"]?["uid"]?.DeepClone() ?? Guid.NewGuid().ToString();
            meta["creationTimestamp"] ??= previous?["metadata"]?["creationTimestamp"]?.DeepClone() ?? DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var (apiVersion, kind) = Kinds[resource];
            json["apiVersion"] = apiVersion;
            json["kind"] = kind;
            Objects(resource)[key] = json;
            Publish(resource, existed ? "MODIFIED" : "ADDED", json, previous);
            return (JsonObject)json.DeepClone();
        }
    }

    /// <summary>Changes a stored object in place if it still exists (never resurrects a deleted one).</summary>
    public bool Update(string resource, string? ns, string name, Func<JsonObject, bool> change)
    {
        lock (_lock)
        {
            if (!Objects(resource).TryGetValue(string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}", out var current))
            {
                return false;
            }
            var copy = (JsonObject)current.DeepClone();
            if (change(copy))
            {
                Put(resource, copy);
            }
            return true;
        }
    }

    public bool Delete(string resource, string? ns, string name)
    {
        lock (_lock)
        {
            var key = string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}";
            if (!Objects(resource).Remove(key, out var gone))
            {
                return false;
            }
            gone["metadata"]!["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
            Publish(resource, "DELETED", gone, null);
            return true;
        }
    }

    public (List<JsonObject> Items, long Rv) List(string resource, string? ns = null)
    {
        lock (_lock)
        {
            var items = Objects(resource).Values
                .Where(o => ns is null || (string?)o["metadata"]?["namespace"] == ns)
                .Select(o => (JsonObject)o.DeepClone()).ToList();
            return (items, _rv);
        }
    }

    public JsonObject? Get(string resource, string? ns, string name)
    {
        lock (_lock)
        {
            return Objects(resource).TryGetValue(string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}", out var o) ? (JsonObject)o.DeepClone() : null;
        }
    }

    /// <summary>
    /// Events after <paramref name="fromRv"/> and a channel for later ones; null when that
    /// resourceVersion has been compacted away (the caller answers 410 Expired).
    /// </summary>
    public (List<FakeEvent> Backlog, Channel<FakeEvent> Live)? Subscribe(string resource, long fromRv)
    {
        lock (_lock)
        {
            if (fromRv < _compactedThrough)
            {
                return null;
            }
            var backlog = _history.Where(h => h.Resource == resource && h.Rv > fromRv).Select(h => h.Event).ToList();
            var channel = Channel.CreateUnbounded<FakeEvent>();
            _watchers.Add((resource, channel));
            return (backlog, channel);
        }
    }

    public void Unsubscribe(Channel<FakeEvent> channel)
    {
        lock (_lock)
        {
            _watchers.RemoveAll(w => w.Channel == channel);
        }
    }

    /// <summary>Forgets the event history: a watch from any earlier resourceVersion gets 410.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _history.Clear();
            _compactedThrough = _rv;
        }
    }

    /// <summary>Ends every open watch cleanly, as the API server does at its timeout.</summary>
    public void CloseWatches()
    {
        lock (_lock)
        {
            _watchers.ForEach(w => w.Channel.Writer.TryComplete());
            _watchers.Clear();
        }
    }

    /// <summary>
    /// Atomically: ends the open watches, makes <paramref name="changes"/>, and forgets the history,
    /// so a client that watches again from where it was is told 410 Expired.
    /// </summary>
    public void ExpireWhileAway(Action<FakeStore> changes)
    {
        lock (_lock)
        {
            CloseWatches();
            changes(this);
            Compact();
        }
    }

    public int WatcherCount
    {
        get
        {
            lock (_lock)
            {
                return _watchers.Count;
            }
        }
    }

    private SortedDictionary<string, JsonObject> Objects(string resource)
    {
        if (!_objects.TryGetValue(resource, out var map))
        {
            _objects[resource] = map = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        }
        return map;
    }

    private static string Key(JsonObject meta) =>
        meta["namespace"] is { } ns && (string?)ns is { Length: > 0 } n ? $"{n}/{meta["name"]}" : (string)meta["name"]!;

    private void Publish(string resource, string type, JsonObject json, JsonObject? previous)
    {
        var line = new FakeEvent(type, (JsonObject)json.DeepClone(), (JsonObject?)previous?.DeepClone());
        _history.Add((_rv, resource, line));
        foreach (var watcher in _watchers.Where(w => w.Resource == resource))
        {
            watcher.Channel.Writer.TryWrite(line);
        }
    }
}
