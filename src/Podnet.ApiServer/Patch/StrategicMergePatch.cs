using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Patch;

/// <summary>
/// Strategic merge patch for the built-in kinds, as kubectl apply and kubectl patch send it.
/// </summary>
/// <remarks>
/// The merge key of a list comes from <see cref="ListSchema"/> by where the list sits; lists
/// without one are replaced whole, as upstream. A merged list is ordered as upstream does it:
/// the items the patch names in the patch's order (or <c>$setElementOrder</c>'s), the items
/// only the server had kept where they were relative to those. Directives handled:
/// <c>$patch</c> (replace, delete, merge) on maps and list items, <c>$retainKeys</c>,
/// <c>$deleteFromPrimitiveList/</c>, <c>$setElementOrder/</c> (its order is applied).
/// </remarks>
internal static class StrategicMergePatch
{
    public static JsonObject Apply(JsonObject original, JsonObject patch) => MergeMap(original.DeepClone().AsObject(), patch, []);

    private static JsonObject MergeMap(JsonObject original, JsonObject patch, List<string> path)
    {
        var directive = (string?)patch["$patch"];
        if (directive == "replace")
        {
            var replaced = patch.DeepClone().AsObject();
            replaced.Remove("$patch");
            return replaced;
        }
        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(k => (string?)k).ToHashSet();
            foreach (var key in original.Select(p => p.Key).ToList())
            {
                if (!keep.Contains(key))
                {
                    original.Remove(key);
                }
            }
        }
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal) && value is JsonArray remove)
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (original[field] is JsonArray list)
                {
                    original[field] = new JsonArray(list.Where(i => !remove.Any(r => JsonNode.DeepEquals(r, i))).Select(i => i?.DeepClone()).ToArray());
                }
            }
        }
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }
            path.Add(key);
            if (value is null)
            {
                original.Remove(key);
            }
            else if (value is JsonObject patchMap)
            {
                if ((string?)patchMap["$patch"] == "delete")
                {
                    original.Remove(key);
                }
                else
                {
                    original[key] = MergeMap(original[key] as JsonObject ?? new JsonObject(), patchMap, path);
                }
            }
            else if (value is JsonArray patchList)
            {
                original[key] = MergeList(path, original[key] as JsonArray, patchList);
            }
            else
            {
                original[key] = value.DeepClone();
            }
            path.RemoveAt(path.Count - 1);
        }
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) && value is JsonArray order)
            {
                var field = key["$setElementOrder/".Length..];
                if (original[field] is JsonArray list)
                {
                    path.Add(field);
                    var type = ListSchema.Of(path);
                    path.RemoveAt(path.Count - 1);
                    original[field] = Normalize(list.ToList(), order.ToList(), list.ToList(), type.Kind == ListKind.Map ? type.PatchKey : null);
                }
            }
        }
        return original;
    }

    private static JsonArray MergeList(List<string> path, JsonArray? original, JsonArray patch)
    {
        if (patch.Any(i => i is JsonObject o && (string?)o["$patch"] == "replace"))
        {
            return new JsonArray(patch.Where(i => !(i is JsonObject o && (string?)o["$patch"] == "replace")).Select(i => i?.DeepClone()).ToArray());
        }
        original ??= [];
        var type = ListSchema.Of(path);
        if (type.Kind == ListKind.Set && patch.All(i => i is JsonValue))
        {
            var union = original.Select(i => i?.DeepClone()).ToList();
            union.AddRange(patch.Where(p => !original.Any(o => JsonNode.DeepEquals(o, p))).Select(p => p?.DeepClone()));
            return Normalize(union, patch.ToList(), original.ToList(), null);
        }
        if (type.Kind != ListKind.Map || !patch.All(i => i is JsonObject))
        {
            return (JsonArray)patch.DeepClone();
        }
        var mergeKey = type.PatchKey!;
        var result = original.Select(i => i?.DeepClone()).ToList();
        var named = new List<JsonNode?>();
        foreach (var patchItem in patch.Cast<JsonObject>())
        {
            var keyValue = patchItem[mergeKey];
            var index = result.FindIndex(r => r is JsonObject ro && JsonNode.DeepEquals(ro[mergeKey], keyValue));
            if ((string?)patchItem["$patch"] == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }
                continue;
            }
            named.Add(patchItem);
            if (index >= 0)
            {
                result[index] = MergeMap(result[index]!.AsObject(), patchItem, path);
            }
            else
            {
                result.Add(MergeMap(new JsonObject(), patchItem, path));
            }
        }
        return Normalize(result, named, original.ToList(), mergeKey);
    }

    /// <summary>
    /// Upstream's element order: the items <paramref name="order"/> names, in its order; the
    /// others in their <paramref name="server"/> order, each placed before the first named item
    /// that came after it on the server.
    /// </summary>
    private static JsonArray Normalize(List<JsonNode?> merged, List<JsonNode?> order, List<JsonNode?> server, string? mergeKey)
    {
        bool Same(JsonNode? a, JsonNode? b) => mergeKey is null ? JsonNode.DeepEquals(a, b) : a is JsonObject x && b is JsonObject y && JsonNode.DeepEquals(x[mergeKey], y[mergeKey]);
        int IndexIn(List<JsonNode?> list, JsonNode? item) => list.FindIndex(i => Same(i, item));
        var named = merged.Where(m => IndexIn(order, m) >= 0).OrderBy(m => IndexIn(order, m)).ToList();
        var serverOnly = merged.Where(m => IndexIn(order, m) < 0).OrderBy(m => IndexIn(server, m)).ToList();
        var all = new List<JsonNode?>();
        int i = 0, j = 0;
        while (i < serverOnly.Count || j < named.Count)
        {
            if (j >= named.Count)
            {
                all.Add(serverOnly[i++]);
            }
            else if (i >= serverOnly.Count)
            {
                all.Add(named[j++]);
            }
            else
            {
                var left = IndexIn(server, serverOnly[i]);
                var right = IndexIn(server, named[j]);
                all.Add(left >= 0 && right >= 0 && left < right ? serverOnly[i++] : named[j++]);
            }
        }
        return new JsonArray(all.Select(n => n?.DeepClone()).ToArray());
    }
}
