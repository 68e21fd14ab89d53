using System.Text.Json.Nodes;
using Podnet.ApiServer.Patch;

namespace Podnet.ApiServer.Fields;

/// <summary>
/// The object half of server-side apply: the configuration merged into the live object, and
/// the fields the applier owned before and now leaves out taken away.
/// </summary>
internal static class ApplyMerge
{
    /// <summary>
    /// Maps merge key by key; associative and set lists merge item by item, in
    /// structured-merge-diff's order (the configuration's order for its items, live-only items
    /// kept where they were); everything else, atomic lists and maps included, is the
    /// configuration's value.
    /// </summary>
    public static JsonNode? Merge(JsonNode? live, JsonNode? config, List<string> names)
    {
        if (config is null)
        {
            return live?.DeepClone();
        }
        if (live is JsonObject l && config is JsonObject c && !ListSchema.IsAtomicMap(names))
        {
            var result = l.DeepClone().AsObject();
            foreach (var (key, value) in c)
            {
                if (value is null)
                {
                    result.Remove(key);
                    continue;
                }
                names.Add(key);
                result[key] = Merge(l[key], value, names);
                names.RemoveAt(names.Count - 1);
            }
            return result;
        }
        if (live is JsonArray la && config is JsonArray ca && FieldWalk.Items(la, names) is { } lhs && FieldWalk.Items(ca, names) is { } rhs)
        {
            return new JsonArray(MergeItems(lhs, rhs, names).ToArray());
        }
        return config.DeepClone();
    }

    /// <summary>structured-merge-diff's list merge: shared items in the configuration's order, live-only items where they stood.</summary>
    private static List<JsonNode?> MergeItems(List<(string Element, JsonNode? Item)> lhs, List<(string Element, JsonNode? Item)> rhs, List<string> names)
    {
        var left = lhs.ToDictionary(i => i.Element, i => i.Item);
        var right = rhs.ToDictionary(i => i.Element, i => i.Item);
        var shared = new Queue<string>(rhs.Select(i => i.Element).Where(left.ContainsKey));
        var nextShared = shared.Count > 0 ? shared.Dequeue() : null;
        var merged = new HashSet<string>();
        var output = new List<JsonNode?>();
        int lI = 0, rI = 0;
        while (lI < lhs.Count || rI < rhs.Count)
        {
            if (lI < lhs.Count && rI < rhs.Count)
            {
                var pe = lhs[lI].Element;
                if (pe == rhs[rI].Element)
                {
                    merged.Add(pe);
                    output.Add(Merge(left[pe], right[pe], names));
                    lI++;
                    rI++;
                    nextShared = shared.Count > 0 ? shared.Dequeue() : null;
                    continue;
                }
                if (right.ContainsKey(pe) && nextShared is not null && nextShared != pe)
                {
                    lI++;
                    continue;
                }
            }
            if (lI < lhs.Count)
            {
                var pe = lhs[lI].Element;
                if (!right.ContainsKey(pe))
                {
                    output.Add(left[pe]?.DeepClone());
                    lI++;
                    continue;
                }
                if (merged.Contains(pe))
                {
                    lI++;
                    continue;
                }
            }
            if (rI < rhs.Count)
            {
                var pe = rhs[rI].Element;
                merged.Add(pe);
                output.Add(Merge(left.GetValueOrDefault(pe), right[pe], names));
                rI++;
                if (nextShared == pe)
                {
                    nextShared = shared.Count > 0 ? shared.Dequeue() : null;
                }
            }
        }
        return output;
    }

    /// <summary>
    /// Removes from <paramref name="obj"/> the fields and items of <paramref name="dropped"/>
    /// (what the applier applied last time) that no manager owns now (<paramref name="owned"/>,
    /// the applier's new set included), as upstream's prune: only what the applier owned goes,
    /// an item keeps the parts someone still owns, and a map or list this leaves empty goes too.
    /// </summary>
    public static void Prune(JsonNode obj, FieldSet dropped, FieldSet? owned, List<string> names)
    {
        foreach (var (element, node) in dropped.Children)
        {
            var keep = owned?.Find(element);
            var unowned = keep is null || keep.IsEmpty;
            if (element.StartsWith("f:", StringComparison.Ordinal))
            {
                var field = element[2..];
                if (obj is not JsonObject map || map[field] is not { } value)
                {
                    continue;
                }
                if (node.Member && unowned)
                {
                    map.Remove(field);
                    continue;
                }
                names.Add(field);
                var wasEmpty = IsEmpty(value);
                Prune(value, node, keep, names);
                if (!wasEmpty && IsEmpty(value))
                {
                    map.Remove(field);
                }
                names.RemoveAt(names.Count - 1);
            }
            else if (obj is JsonArray list && FieldWalk.Items(list, names) is { } items && items.FindIndex(i => i.Element == element) is var index and >= 0)
            {
                if (node.Member && unowned)
                {
                    list.RemoveAt(index);
                }
                else if (list[index] is { } item)
                {
                    Prune(item, node, keep, names);
                }
            }
        }
    }

    private static bool IsEmpty(JsonNode node) => node is JsonObject { Count: 0 } or JsonArray { Count: 0 };
}
