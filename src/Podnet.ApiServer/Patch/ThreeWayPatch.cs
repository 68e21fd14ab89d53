using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Patch;

/// <summary>
/// kubectl apply's three-way strategic merge patch (client-side apply): from the last applied
/// configuration (original), the new one (modified) and the live object (current).
/// </summary>
/// <remarks>
/// As upstream's CreateThreeWayMergePatch: the patch is the difference from current to
/// modified without deletions (so fields others set and the file never named stay), plus the
/// deletions from original to modified (so a field removed from the file since the last apply
/// goes). Lists with a merge key are diffed item by item: changed items carry their key,
/// removed ones a <c>$patch: delete</c> item, and <c>$setElementOrder/</c> gives the file's
/// order whenever the list changed or its order differs; set lists use
/// <c>$deleteFromPrimitiveList/</c>; other lists are replaced whole when they differ.
/// <c>$retainKeys</c> goes with the structs upstream marks retainKeys (a Deployment's strategy,
/// a volume).
/// </remarks>
internal static class ThreeWayPatch
{
    private sealed record Options(bool IgnoreDeletions, bool IgnoreChangesAndAdditions);

    /// <summary>The patch; empty (<c>{}</c>) when the live object already matches, which kubectl reports as "unchanged".</summary>
    public static JsonObject Create(JsonObject? original, JsonObject modified, JsonObject current)
    {
        var delta = DiffMaps(current, modified, new Options(IgnoreDeletions: true, IgnoreChangesAndAdditions: false), [], false);
        var deletions = DiffMaps(original ?? [], modified, new Options(IgnoreDeletions: false, IgnoreChangesAndAdditions: true), [], false);
        return MergePatches(deletions, delta, []);
    }

    private static JsonObject DiffMaps(JsonObject original, JsonObject modified, Options options, List<string> path, bool retainKeys)
    {
        var patch = new JsonObject();
        var retained = new List<string>();
        foreach (var (key, value) in modified)
        {
            if (retainKeys && value is not null)
            {
                retained.Add(key);
            }
            if (!original.TryGetPropertyValue(key, out var old))
            {
                if (!options.IgnoreChangesAndAdditions)
                {
                    patch[key] = value?.DeepClone();
                }
                continue;
            }
            path.Add(key);
            switch (old, value)
            {
                case (JsonObject oldMap, JsonObject newMap):
                    var nested = DiffMaps(oldMap, newMap, options, path, ListSchema.IsRetainKeys(path));
                    if (nested.Count > 0)
                    {
                        patch[key] = nested;
                    }
                    break;
                case (JsonArray oldList, JsonArray newList):
                    DiffSlice(key, oldList, newList, patch, options, path);
                    break;
                default:
                    if (!options.IgnoreChangesAndAdditions && !JsonNode.DeepEquals(old, value))
                    {
                        patch[key] = value?.DeepClone();
                    }
                    break;
            }
            path.RemoveAt(path.Count - 1);
        }
        if (!options.IgnoreDeletions)
        {
            foreach (var (key, _) in original)
            {
                if (!modified.ContainsKey(key))
                {
                    patch[key] = null;
                }
            }
        }
        if (retained.Count > 0 && (patch.Count > 0 || modified.Any(p => p.Value is not null && !original.ContainsKey(p.Key))))
        {
            patch["$retainKeys"] = new JsonArray(retained.Order(StringComparer.Ordinal).Select(k => (JsonNode)k).ToArray());
        }
        return patch;
    }

    private static void DiffSlice(string key, JsonArray original, JsonArray modified, JsonObject patch, Options options, List<string> path)
    {
        var type = ListSchema.Of(path);
        var maps = original.Concat(modified).All(i => i is JsonObject);
        var scalars = original.Concat(modified).All(i => i is JsonValue);
        if (type.Kind == ListKind.Map && maps)
        {
            var (changes, order) = DiffMapList(original, modified, type.PatchKey!, options, path);
            if (changes.Count > 0)
            {
                patch[key] = changes;
            }
            if (order is not null)
            {
                patch[$"$setElementOrder/{key}"] = order;
            }
        }
        else if (type.Kind == ListKind.Set && scalars)
        {
            var added = options.IgnoreChangesAndAdditions ? [] : modified.Where(m => !original.Any(o => JsonNode.DeepEquals(o, m))).ToList();
            var removed = options.IgnoreDeletions ? [] : original.Where(o => !modified.Any(m => JsonNode.DeepEquals(o, m))).ToList();
            if (added.Count > 0)
            {
                patch[key] = new JsonArray(added.Select(a => a?.DeepClone()).ToArray());
            }
            if (removed.Count > 0)
            {
                patch[$"$deleteFromPrimitiveList/{key}"] = new JsonArray(removed.Select(r => r?.DeepClone()).ToArray());
            }
            if (removed.Count > 0 || !options.IgnoreChangesAndAdditions && !JsonNode.DeepEquals(original, modified))
            {
                patch[$"$setElementOrder/{key}"] = modified.DeepClone();
            }
        }
        else if (!options.IgnoreChangesAndAdditions && !JsonNode.DeepEquals(original, modified))
        {
            patch[key] = modified.DeepClone();
        }
    }

    private static (JsonArray Changes, JsonArray? Order) DiffMapList(JsonArray original, JsonArray modified, string mergeKey, Options options, List<string> path)
    {
        var changes = new JsonArray();
        foreach (var item in modified.Cast<JsonObject>())
        {
            var match = original.Cast<JsonObject>().FirstOrDefault(o => JsonNode.DeepEquals(o[mergeKey], item[mergeKey]));
            if (match is null)
            {
                if (!options.IgnoreChangesAndAdditions)
                {
                    changes.Add(item.DeepClone());
                }
                continue;
            }
            var nested = DiffMaps(match, item, options, path, ListSchema.IsRetainKeys([.. path, "[]"]));
            if (nested.Count > 0)
            {
                nested[mergeKey] = item[mergeKey]?.DeepClone();
                changes.Add((JsonNode)nested);
            }
        }
        if (!options.IgnoreDeletions)
        {
            var gone = original.Cast<JsonObject>().Where(o => !modified.Cast<JsonObject>().Any(m => JsonNode.DeepEquals(o[mergeKey], m[mergeKey])));
            foreach (var item in gone.OrderBy(o => KeyText(o[mergeKey]), StringComparer.Ordinal))
            {
                changes.Add((JsonNode)new JsonObject { ["$patch"] = "delete", [mergeKey] = item[mergeKey]?.DeepClone() });
            }
        }
        var orderSame = original.Count == modified.Count && original.Zip(modified).All(p => JsonNode.DeepEquals(p.First![mergeKey], p.Second![mergeKey]));
        var wantOrder = !options.IgnoreChangesAndAdditions && (changes.Count > 0 || !orderSame) || !options.IgnoreDeletions && changes.Count > 0;
        var order = wantOrder ? new JsonArray(modified.Select(m => (JsonNode)new JsonObject { [mergeKey] = m![mergeKey]?.DeepClone() }).ToArray()) : null;
        return (changes, order);
    }

    /// <summary>A merge key as Go's %v prints it, which is how upstream sorts removed items.</summary>
    private static string KeyText(JsonNode? key) => key is JsonValue v && v.TryGetValue<string>(out var s) ? s : key?.ToJsonString() ?? "";

    /// <summary>Adds the additions patch to the deletions patch; the two never touch the same list item or scalar.</summary>
    private static JsonObject MergePatches(JsonObject into, JsonObject from, List<string> path)
    {
        foreach (var (key, value) in from)
        {
            path.Add(key);
            if (value is JsonObject map && into[key] is JsonObject target)
            {
                MergePatches(target, map, path);
            }
            else if (value is JsonArray list && into[key] is JsonArray existing && ListSchema.Of(path) is { Kind: ListKind.Map, PatchKey: { } mergeKey })
            {
                foreach (var item in list.OfType<JsonObject>())
                {
                    if (existing.OfType<JsonObject>().FirstOrDefault(e => JsonNode.DeepEquals(e[mergeKey], item[mergeKey])) is { } same)
                    {
                        MergePatches(same, item, [.. path]);
                    }
                    else
                    {
                        existing.Add(item.DeepClone());
                    }
                }
            }
            else
            {
                into[key] = value?.DeepClone();
            }
            path.RemoveAt(path.Count - 1);
        }
        return into;
    }
}
