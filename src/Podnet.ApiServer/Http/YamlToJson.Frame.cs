using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Podnet.ApiServer.Http;

/// <summary>The state of <see cref="YamlToJson"/>'s walk: anchors, and the open mappings and sequences.</summary>
internal sealed partial class YamlToJson
{
    private sealed record Anchored(JsonNode? Node, string? Raw, long Nodes, long Bytes, int Height);

    private sealed record Done(JsonNode? Node);

    /// <summary>An open mapping or sequence; a mapping alternates between wanting a key and a value.</summary>
    private sealed class Frame(JsonNode node, string? anchor, long nodesAtStart, long bytesAtStart)
    {
        private string? _key;
        private bool _mergeKey;
        private List<JsonObject>? _merges;

        public JsonNode Node { get; } = node;

        public string? Anchor { get; } = anchor;

        public long NodesAtStart { get; } = nodesAtStart;

        public long BytesAtStart { get; } = bytesAtStart;

        /// <summary>Levels of containers from this one down: 1 when it holds no container.</summary>
        public int Height { get; private set; } = 1;

        public bool ExpectsKey => Node is JsonObject && _key is null && !_mergeKey;

        public void TakeKey(ParsingEvent e, string key, bool merge)
        {
            if (!merge && ((JsonObject)Node).ContainsKey(key))
            {
                throw new YamlException(e.Start, e.End, $"Duplicate key \"{key}\"");
            }
            (_key, _mergeKey) = merge ? (null, true) : (key, false);
        }

        public void Take(ParsingEvent e, JsonNode? value, int height)
        {
            Height = Math.Max(Height, height + 1);
            if (Node is JsonArray array)
            {
                array.Add(value);
                return;
            }
            if (_mergeKey)
            {
                _mergeKey = false;
                _merges ??= [];
                _merges.AddRange(value switch
                {
                    JsonObject map => [map],
                    JsonArray { Count: > 0 } maps when maps.All(m => m is JsonObject) => DetachAll(maps),
                    _ => throw new YamlException(e.Start, e.End, "yaml: map merge requires map or sequence of maps as the value"),
                });
                return;
            }
            ((JsonObject)Node)[_key!] = value;
            _key = null;
        }

        /// <summary>The mapping's own keys win; among merged mappings, the earlier one wins.</summary>
        public void ApplyMerges()
        {
            if (_merges is null)
            {
                return;
            }
            var target = (JsonObject)Node;
            foreach (var source in _merges)
            {
                var properties = source.ToList();
                source.Clear();
                foreach (var (key, value) in properties)
                {
                    if (!target.ContainsKey(key))
                    {
                        target[key] = value;
                    }
                }
            }
        }

        private static List<JsonObject> DetachAll(JsonArray maps)
        {
            var list = maps.Select(m => (JsonObject)m!).ToList();
            maps.Clear();
            return list;
        }
    }
}
