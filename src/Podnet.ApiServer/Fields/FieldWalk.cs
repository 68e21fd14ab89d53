using System.Text.Json.Nodes;
using Podnet.ApiServer.Patch;

namespace Podnet.ApiServer.Fields;

/// <summary>
/// Field sets of objects, as structured-merge-diff computes them over the schema: which
/// fields a configuration sets (<see cref="Of"/>), and what changed between two versions of
/// an object (<see cref="Compare"/>).
/// </summary>
/// <remarks>
/// Leaves are scalars, atomic lists and maps (<see cref="ListSchema"/>), and empty maps;
/// associative list items and set items are members themselves. A JSON null counts as absent.
/// <c>names</c> is the path of field names <see cref="ListSchema"/> reads.
/// </remarks>
internal static class FieldWalk
{
    /// <summary>The changes between two objects: leaves added, changed or removed, and the maps and list items that appeared or went.</summary>
    internal sealed record Comparison(FieldSet Added, FieldSet Modified, FieldSet Removed)
    {
        public FieldSet Changed => Added.Union(Modified);
    }

    /// <summary>The fields a (partial) configuration sets: what an applier comes to own.</summary>
    public static FieldSet Of(JsonObject config)
    {
        var set = new FieldSet();
        Collect(config, [], set);
        return set;
    }

    private static void Collect(JsonNode? value, List<string> names, FieldSet node)
    {
        switch (value)
        {
            case JsonObject map when map.Count > 0 && !ListSchema.IsAtomicMap(names):
                foreach (var (key, child) in map)
                {
                    if (child is null)
                    {
                        continue;
                    }
                    names.Add(key);
                    Collect(child, names, node.Child("f:" + key));
                    names.RemoveAt(names.Count - 1);
                }
                break;
            case JsonArray list when Items(list, names) is { } items:
                foreach (var (element, item) in items)
                {
                    var child = node.Child(element);
                    child.Member = true;
                    if (item is JsonObject itemMap)
                    {
                        foreach (var (key, field) in itemMap)
                        {
                            if (field is not null)
                            {
                                names.Add(key);
                                Collect(field, names, child.Child("f:" + key));
                                names.RemoveAt(names.Count - 1);
                            }
                        }
                    }
                }
                break;
            default:
                node.Member = true;
                break;
        }
    }

    public static Comparison Compare(JsonObject before, JsonObject after)
    {
        var c = new Comparison(new FieldSet(), new FieldSet(), new FieldSet());
        CompareNode(before, after, [], [], c);
        return c;
    }

    private static void CompareNode(JsonNode? l, JsonNode? r, List<string> names, List<string> path, Comparison c)
    {
        if (l is null && r is null || JsonNode.DeepEquals(l, r))
        {
            return;
        }
        var shape = l ?? r;
        var sameShape = l is null || r is null || l.GetValueKind() == r.GetValueKind();
        if (sameShape && shape is JsonObject && !ListSchema.IsAtomicMap(names) && !(IsEmptyMap(l) && IsEmptyMap(r)))
        {
            var lm = l as JsonObject;
            var rm = r as JsonObject;
            foreach (var key in (lm?.Select(p => p.Key) ?? []).Union(rm?.Select(p => p.Key) ?? []))
            {
                names.Add(key);
                path.Add("f:" + key);
                CompareNode(lm?[key], rm?[key], names, path, c);
                path.RemoveAt(path.Count - 1);
                names.RemoveAt(names.Count - 1);
            }
        }
        else if (sameShape && shape is JsonArray && Items(l as JsonArray ?? [], names) is { } li && Items(r as JsonArray ?? [], names) is { } ri)
        {
            var left = li.ToDictionary(i => i.Element, i => i.Item);
            var right = ri.ToDictionary(i => i.Element, i => i.Item);
            foreach (var element in left.Keys.Union(right.Keys))
            {
                var lItem = left.GetValueOrDefault(element);
                var rItem = right.GetValueOrDefault(element);
                path.Add(element);
                if (element.StartsWith("v:", StringComparison.Ordinal))
                {
                    Leaf(lItem, rItem, path, c);
                }
                else
                {
                    CompareNode(lItem, rItem, names, path, c);
                }
                path.RemoveAt(path.Count - 1);
            }
        }
        else
        {
            Leaf(l, r, path, c);
            return;
        }
        if (l is null)
        {
            c.Added.Insert(path);
        }
        else if (r is null)
        {
            c.Removed.Insert(path);
        }
    }

    private static void Leaf(JsonNode? l, JsonNode? r, List<string> path, Comparison c)
    {
        if (l is null)
        {
            c.Added.Insert(path);
        }
        else if (r is null)
        {
            c.Removed.Insert(path);
        }
        else if (!JsonNode.DeepEquals(l, r))
        {
            c.Modified.Insert(path);
        }
    }

    private static bool IsEmptyMap(JsonNode? node) => node is null || node is JsonObject { Count: 0 };

    /// <summary>
    /// The items of a list that is not atomic, each with its path element; null for an atomic
    /// list, and for one whose items cannot be told apart (a key missing, twice the same key),
    /// which is then owned whole.
    /// </summary>
    public static List<(string Element, JsonNode? Item)>? Items(JsonArray list, IReadOnlyList<string> names)
    {
        var type = ListSchema.Of(names);
        if (type.Kind == ListKind.Atomic)
        {
            return null;
        }
        var items = new List<(string, JsonNode?)>();
        var seen = new HashSet<string>();
        foreach (var item in list)
        {
            var element = type.Kind == ListKind.Set
                ? item is JsonValue ? "v:" + item.ToJsonString() : null
                : item is JsonObject map ? KeyElement(map, type.Keys!) : null;
            if (element is null || !seen.Add(element))
            {
                return null;
            }
            items.Add((element, item));
        }
        return items;
    }

    /// <summary>The <c>k:</c> element of an associative list item: its key fields, sorted by name, defaulted when left out.</summary>
    public static string? KeyElement(JsonObject item, string[] keys)
    {
        var key = new JsonObject();
        foreach (var name in keys.Order(StringComparer.Ordinal))
        {
            if (item[name] is { } value)
            {
                key[name] = value.DeepClone();
            }
            else if (ListType.KeyDefaults.TryGetValue(name, out var fallback))
            {
                key[name] = fallback;
            }
            else if (name == keys[0])
            {
                return null;
            }
        }
        return "k:" + key.ToJsonString(Http.Bodies.Options);
    }
}
