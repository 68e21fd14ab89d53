using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Podnet.Ui;

/// <summary>
/// What the page shows, kept as the projected JSON text of each object, and the pages watching
/// it. Every change is one message (JSON, the page's protocol, see the README): a snapshot on
/// subscribe, then "upsert", "delete" and "connection" in the order they happened.
/// </summary>
/// <remarks>
/// Design: one lock guards both the objects and the subscriber list, so that a subscriber's
/// snapshot and the messages after it are exactly consecutive (nothing lost or doubled between
/// them). A page that falls <see cref="MaxQueued"/> messages behind is cut off instead of
/// buffering without bound; its EventSource reconnects and starts again from a snapshot.
/// </remarks>
internal sealed class UiState(JsonObject lab)
{
    public const int MaxQueued = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, string>> _objects = new(StringComparer.Ordinal);
    private readonly List<Channel<string>> _subscribers = [];
    private bool _connected;
    private string? _error;

    public bool Connected
    {
        get
        {
            lock (_lock)
            {
                return _connected;
            }
        }
    }

    /// <summary>Stores <paramref name="value"/> under kind/key; false (and nothing sent) when it is what was there.</summary>
    public bool Upsert(string kind, string key, JsonObject value)
    {
        var text = value.ToJsonString();
        lock (_lock)
        {
            var objects = KindOf(kind);
            if (objects.TryGetValue(key, out var old) && old == text)
            {
                return false;
            }
            objects[key] = text;
            Broadcast($$"""{"op":"upsert","kind":{{Quote(kind)}},"key":{{Quote(key)}},"object":{{text}}}""");
            return true;
        }
    }

    public void Delete(string kind, string key)
    {
        lock (_lock)
        {
            if (KindOf(kind).Remove(key))
            {
                Broadcast($$"""{"op":"delete","kind":{{Quote(kind)}},"key":{{Quote(key)}}}""");
            }
        }
    }

    /// <summary>Whether the lab's API server answers; <paramref name="error"/> says why not.</summary>
    public void SetConnection(bool connected, string? error)
    {
        lock (_lock)
        {
            if (_connected == connected && _error == error)
            {
                return;
            }
            _connected = connected;
            _error = error;
            Broadcast(ConnectionMessage());
        }
    }

    /// <summary>The JSON of every object of <paramref name="kind"/>, by key.</summary>
    public IReadOnlyDictionary<string, string> List(string kind)
    {
        lock (_lock)
        {
            return new Dictionary<string, string>(KindOf(kind));
        }
    }

    /// <summary>A new subscriber: its reader starts with the snapshot; dispose the handle to leave.</summary>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(MaxQueued) { SingleReader = true });
        lock (_lock)
        {
            channel.Writer.TryWrite(Snapshot());
            _subscribers.Add(channel);
        }
        return new Subscription(channel.Reader, () =>
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }
        });
    }

    /// <summary>The whole state as one message, as a page gets it first.</summary>
    public string Snapshot()
    {
        lock (_lock)
        {
            var objects = string.Join(",", _objects.Select(kind =>
                $"{Quote(kind.Key)}:{{{string.Join(",", kind.Value.Select(o => $"{Quote(o.Key)}:{o.Value}"))}}}"));
            return $$"""{"op":"snapshot","lab":{{lab.ToJsonString()}},"connected":{{(_connected ? "true" : "false")}},"error":{{Quote(_error)}},"objects":{""" + objects + "}}";
        }
    }

    private string ConnectionMessage() => $$"""{"op":"connection","connected":{{(_connected ? "true" : "false")}},"error":{{Quote(_error)}}}""";

    private Dictionary<string, string> KindOf(string kind)
    {
        if (!_objects.TryGetValue(kind, out var objects))
        {
            _objects[kind] = objects = new Dictionary<string, string>(StringComparer.Ordinal);
        }
        return objects;
    }

    private void Broadcast(string message)
    {
        for (var i = _subscribers.Count - 1; i >= 0; i--)
        {
            if (!_subscribers[i].Writer.TryWrite(message))
            {
                _subscribers[i].Writer.TryComplete(new InvalidOperationException("the page fell too far behind"));
                _subscribers.RemoveAt(i);
            }
        }
    }

    private static string Quote(string? value) => value is null ? "null" : JsonValue.Create(value).ToJsonString();

    public sealed class Subscription(ChannelReader<string> reader, Action leave) : IDisposable
    {
        public ChannelReader<string> Reader { get; } = reader;

        public void Dispose() => leave();
    }
}
