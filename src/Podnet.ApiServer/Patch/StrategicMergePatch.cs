using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Patch;

/// <summary>
/// Strategic merge patch for the built-in kinds, as kubectl apply and kubectl patch send it.
/// </summary>
/// <remarks>
/// The merge key of a list comes from its field name (the struct tags of the upstream types
/// for the fields our kinds have); lists without one are replaced whole, as upstream. Both
/// <c>ports</c> lists share a field name: container ports carry <c>containerPort</c>, Service
/// ports <c>port</c>, so the key is chosen by what the items hold. Directives handled:
/// <c>$patch</c> (replace, delete, merge) on maps and list items, <c>$retainKeys</c>,
/// <c>$deleteFromPrimitiveList/</c>, <c>$setElementOrder/</c> (its order is applied).
/// </remarks>
internal static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new()
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["imagePullSecrets"] = "name",
        ["conditions"] = "type",
        ["ownerReferences"] = "uid",
        ["hostAliases"] = "ip",
        ["topologySpreadConstraints"] = "topologyKey",
        ["resourceClaims"] = "name",
        ["schedulingGates"] = "name",
        ["addresses"] = "type",
        ["containerStatuses"] = "name",
        ["initContainerStatuses"] = "name",
    };

    /// <summary>Primitive lists that merge as sets rather than being replaced.</summary>
    private static readonly HashSet<string> MergedPrimitiveLists = ["finalizers"];

    public static JsonObject Apply(JsonObject original, JsonObject patch) => MergeMap(original.DeepClone().AsObject(), patch);

    private static JsonObject MergeMap(JsonObject original, JsonObject patch)
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
            if (key is "$patch" or "$retainKeys")
            {
                continue;
            }
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                continue;
            }
            if (value is null)
            {
                original.Remove(key);
            }
            else if (value is JsonObject patchMap)
            {
                if ((string?)patchMap["$patch"] == "delete")
                {
                    original.Remove(key);
                    continue;
                }
                original[key] = MergeMap(original[key] as JsonObject ?? new JsonObject(), patchMap);
            }
            else if (value is JsonArray patchList)
            {
                original[key] = MergeList(key, original[key] as JsonArray, patchList);
            }
            else
            {
                original[key] = value.DeepClone();
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
            else if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) && value is JsonArray order)
            {
                var field = key["$setElementOrder/".Length..];
                if (original[field] is JsonArray list)
                {
                    original[field] = Reorder(field, list, order);
                }
            }
        }
        return original;
    }

    private static JsonArray MergeList(string field, JsonArray? original, JsonArray patch)
    {
        if (patch.Any(i => i is JsonObject o && (string?)o["$patch"] == "replace"))
        {
            return new JsonArray(patch.Where(i => !(i is JsonObject o && (string?)o["$patch"] == "replace")).Select(i => i?.DeepClone()).ToArray());
        }
        original ??= [];
        if (MergedPrimitiveLists.Contains(field))
        {
            var union = original.Select(i => i?.DeepClone()).ToList();
            union.AddRange(patch.Where(p => !original.Any(o => JsonNode.DeepEquals(o, p))).Select(p => p?.DeepClone()));
            return new JsonArray(union.ToArray());
        }
        var mergeKey = MergeKeyOf(field, original, patch);
        if (mergeKey is null)
        {
            return (JsonArray)patch.DeepClone();
        }
        var result = original.Select(i => i?.DeepClone()).ToList();
        foreach (var item in patch)
        {
            if (item is not JsonObject patchItem)
            {
                continue;
            }
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
            if (index >= 0)
            {
                result[index] = MergeMap(result[index]!.AsObject(), patchItem);
            }
            else
            {
                result.Add(MergeMap(new JsonObject(), patchItem));
            }
        }
        return new JsonArray(result.ToArray());
    }

    private static string? MergeKeyOf(string field, JsonArray original, JsonArray patch)
    {
        if (field == "ports")
        {
            var items = original.Concat(patch).OfType<JsonObject>();
            return items.Any(i => i.ContainsKey("containerPort")) ? "containerPort" : items.Any(i => i.ContainsKey("port")) ? "port" : null;
        }
        return MergeKeys.GetValueOrDefault(field);
    }

    private static JsonArray Reorder(string field, JsonArray list, JsonArray order)
    {
        var key = MergeKeyOf(field, list, []);
        int Rank(JsonNode? item)
        {
            for (var i = 0; i < order.Count; i++)
            {
                var wanted = order[i];
                var matches = key is not null && item is JsonObject o && wanted is JsonObject w
                    ? JsonNode.DeepEquals(o[key], w[key])
                    : JsonNode.DeepEquals(item, wanted);
                if (matches)
                {
                    return i;
                }
            }
            return order.Count;
        }
        return new JsonArray(list.Select((item, i) => (item, rank: Rank(item), i)).OrderBy(t => t.rank).ThenBy(t => t.i).Select(t => t.item?.DeepClone()).ToArray());
    }
}
