using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Fields;

/// <summary>Who writes: the field manager, and the subresource written through (scale, status) if any.</summary>
internal sealed record FieldManager(string Name, string? Subresource = null);

/// <summary>
/// metadata.managedFields, kept as kube-apiserver keeps them: every write records its
/// manager's fields (an Update entry owns what it changed, an Apply entry what it applied),
/// and server-side apply merges, prunes and checks conflicts against the other managers.
/// </summary>
/// <remarks>
/// Fields the server owns (apiVersion, kind, name, namespace, uid, resourceVersion,
/// generation, timestamps, managedFields) are in no set; status is left out of writes to the
/// main resource of kinds with a status subresource, and only status counts for writes to it.
/// An object created by an update starts from the kind's always-present structs (metadata,
/// spec, template, strategy), as upstream compares against a zero Go struct: maps and list
/// items a write creates are members themselves, those structs are not.
/// </remarks>
internal static class ManagedFields
{
    private sealed class Entry
    {
        public required string Manager { get; init; }

        public required string Operation { get; init; }

        public required string ApiVersion { get; set; }

        public string? Time { get; set; }

        public string? Subresource { get; init; }

        public required FieldSet Fields { get; set; }

        public bool Is(string manager, string operation, string? sub) => Manager == manager && Operation == operation && Subresource == sub;
    }

    private static readonly string[] ServerMeta = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"];

    private const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    private static readonly HashSet<string> Structs = ["metadata", "spec", "template", "strategy"];

    /// <summary>Records an update (create, replace, patch) by <paramref name="manager"/>; <paramref name="current"/> is null for a create.</summary>
    public static void Track(ResourceInfo r, JsonObject? current, JsonObject updated, FieldManager manager, DateTimeOffset now)
    {
        // As upstream: managedFields the writer sent are taken as they are (kubectl rewrites them
        // when it moves an object from client-side to server-side apply); none, or a write to a
        // subresource, keeps the live ones.
        var given = Read(updated);
        var entries = given.Count > 0 && manager.Subresource is null ? given : current is null ? [] : Read(current);
        var before = current is null ? Skeleton(Strip(r, updated, manager.Subresource)) : Strip(r, current, manager.Subresource);
        var change = FieldWalk.Compare(before, Strip(r, updated, manager.Subresource));
        var changed = change.Changed;
        foreach (var other in entries.Where(e => !e.Is(manager.Name, "Update", manager.Subresource)))
        {
            other.Fields = other.Fields.Difference(changed).Difference(change.Removed);
        }
        var mine = Find(entries, manager, "Update", r.ApiVersion);
        mine.Fields = mine.Fields.Difference(change.Removed).Union(changed);
        if (!changed.IsEmpty || !change.Removed.IsEmpty)
        {
            mine.Time = ObjectMeta.Timestamp(now);
        }
        Write(updated, entries);
    }

    /// <summary>
    /// Server-side apply of <paramref name="config"/> onto <paramref name="live"/>: the merged
    /// object, with its managedFields; a 409 naming every conflict unless <paramref name="force"/>.
    /// </summary>
    public static JsonObject Apply(ResourceInfo r, JsonObject live, JsonObject config, FieldManager manager, bool force, DateTimeOffset now)
    {
        var entries = Read(live);
        var mine = entries.FirstOrDefault(e => e.Is(manager.Name, "Apply", manager.Subresource));
        var lastSet = mine?.Fields ?? new FieldSet();
        var applied = Strip(r, config, manager.Subresource);
        var appliedSet = FieldWalk.Of(applied);
        var merged = (JsonObject)ApplyMerge.Merge(live, applied, [])!;
        var owned = entries.Where(e => e != mine).Aggregate(appliedSet, (set, e) => set.Union(e.Fields));
        ApplyMerge.Prune(merged, lastSet.Difference(appliedSet), owned, []);
        var change = FieldWalk.Compare(Strip(r, live, manager.Subresource), Strip(r, merged, manager.Subresource));
        var conflicts = entries.Where(e => e != mine)
            .Select(e => (Entry: e, Fields: e.Fields.Intersection(change.Changed)))
            .Where(c => !c.Fields.IsEmpty)
            .ToList();
        if (conflicts.Count > 0 && !force && !AllowedByLastApplied(live, manager, conflicts.Select(c => c.Fields)))
        {
            throw Conflict(conflicts.SelectMany(c => c.Fields.Paths().Select(p => (Manager: Describe(c.Entry), Path: FieldSet.Display(p)))).ToList());
        }
        foreach (var other in entries.Where(e => e != mine))
        {
            other.Fields = other.Fields.Difference(change.Changed).Difference(change.Removed);
        }
        mine = Find(entries, manager, "Apply", r.ApiVersion);
        mine.Fields = appliedSet;
        if (mine.Time is null || !change.Changed.IsEmpty || !change.Removed.IsEmpty)
        {
            mine.Time = ObjectMeta.Timestamp(now);
        }
        Write(merged, entries);
        SyncLastApplied(merged, config, manager);
        return merged;
    }

    /// <summary>
    /// kubectl moving an object from client-side to server-side apply, as upstream's
    /// lastAppliedManager: conflicts on fields of the last-applied-configuration annotation
    /// are taken over without force when the applier is "kubectl" (kubectl moves the entries
    /// over right after).
    /// </summary>
    private static bool AllowedByLastApplied(JsonObject live, FieldManager manager, IEnumerable<FieldSet> conflicts)
    {
        if (manager.Name != "kubectl" || (string?)live["metadata"]?["annotations"]?[LastApplied] is not { Length: > 0 } text)
        {
            return false;
        }
        try
        {
            var allowed = FieldWalk.Of(JsonNode.Parse(text) as JsonObject ?? []);
            return conflicts.All(c => c.Difference(allowed).IsEmpty);
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>As upstream's lastAppliedUpdater: kubectl's server-side apply keeps an existing last-applied annotation in step with what it applied.</summary>
    private static void SyncLastApplied(JsonObject merged, JsonObject config, FieldManager manager)
    {
        if (manager.Name != "kubectl" || merged["metadata"]?["annotations"] is not JsonObject annotations || !annotations.ContainsKey(LastApplied))
        {
            return;
        }
        var applied = config.DeepClone().AsObject();
        (applied["metadata"]?["annotations"] as JsonObject)?.Remove(LastApplied);
        annotations[LastApplied] = applied.ToJsonString(Bodies.Options);
    }

    /// <summary>The object as field sets see it: without what the server owns, and status or all but status by subresource.</summary>
    private static JsonObject Strip(ResourceInfo r, JsonObject obj, string? sub)
    {
        var copy = obj.DeepClone().AsObject();
        copy.Remove("apiVersion");
        copy.Remove("kind");
        if (copy["metadata"] is JsonObject meta)
        {
            foreach (var field in ServerMeta)
            {
                meta.Remove(field);
            }
            if (meta.Count == 0)
            {
                copy.Remove("metadata");
            }
        }
        if (r.HasSubresource("status") && r != ResourceCatalog.Namespaces)
        {
            if (sub == "status")
            {
                foreach (var key in copy.Select(p => p.Key).Where(k => k is not ("status" or "metadata")).ToList())
                {
                    copy.Remove(key);
                }
            }
            else
            {
                copy.Remove("status");
            }
        }
        return copy;
    }

    /// <summary>The always-present structs of an object, empty: what a create is compared against.</summary>
    private static JsonObject Skeleton(JsonObject obj)
    {
        var skeleton = new JsonObject();
        foreach (var (key, value) in obj)
        {
            if (Structs.Contains(key) && value is JsonObject child)
            {
                skeleton[key] = Skeleton(child);
            }
        }
        return skeleton;
    }

    private static Entry Find(List<Entry> entries, FieldManager manager, string operation, string apiVersion)
    {
        if (entries.FirstOrDefault(e => e.Is(manager.Name, operation, manager.Subresource)) is { } found)
        {
            found.ApiVersion = apiVersion;
            return found;
        }
        var entry = new Entry { Manager = manager.Name, Operation = operation, ApiVersion = apiVersion, Subresource = manager.Subresource, Fields = new FieldSet() };
        entries.Add(entry);
        return entry;
    }

    private static List<Entry> Read(JsonObject obj) =>
        (obj["metadata"]?["managedFields"] as JsonArray ?? []).OfType<JsonObject>().Select(e => new Entry
        {
            Manager = (string?)e["manager"] ?? "",
            Operation = (string?)e["operation"] ?? "Update",
            ApiVersion = (string?)e["apiVersion"] ?? "",
            Time = (string?)e["time"],
            Subresource = (string?)e["subresource"] is { Length: > 0 } s ? s : null,
            Fields = FieldSet.FromJson(e["fieldsV1"] as JsonObject),
        }).ToList();

    /// <summary>Writes the entries as upstream orders them: Apply before Update, then by time, manager, version, subresource; empty ones dropped.</summary>
    private static void Write(JsonObject obj, List<Entry> entries)
    {
        var kept = entries.Where(e => !e.Fields.IsEmpty)
            .OrderBy(e => e.Operation, StringComparer.Ordinal).ThenBy(e => e.Time ?? "", StringComparer.Ordinal)
            .ThenBy(e => e.Manager, StringComparer.Ordinal).ThenBy(e => e.ApiVersion, StringComparer.Ordinal).ThenBy(e => e.Subresource ?? "", StringComparer.Ordinal)
            .Select(e =>
            {
                var json = new JsonObject { ["manager"] = e.Manager, ["operation"] = e.Operation, ["apiVersion"] = e.ApiVersion };
                if (e.Time is not null)
                {
                    json["time"] = e.Time;
                }
                json["fieldsType"] = "FieldsV1";
                json["fieldsV1"] = e.Fields.ToJson();
                if (e.Subresource is not null)
                {
                    json["subresource"] = e.Subresource;
                }
                return (JsonNode)json;
            }).ToArray();
        if (kept.Length == 0)
        {
            obj.Meta().Remove("managedFields");
        }
        else
        {
            obj.Meta()["managedFields"] = new JsonArray(kept);
        }
    }

    /// <summary>A manager as kube-apiserver names it in a conflict: "kubectl-scale" with subresource "scale" using apps/v1 at TIME.</summary>
    private static string Describe(Entry e)
    {
        var text = $"\"{e.Manager}\"";
        if (e.Subresource is not null)
        {
            text += $" with subresource \"{e.Subresource}\"";
        }
        if (e.Operation == "Update")
        {
            text += $" using {e.ApiVersion}" + (e.Time is null ? "" : $" at {e.Time}");
        }
        return text;
    }

    private static ApiException Conflict(List<(string Manager, string Path)> conflicts)
    {
        string message;
        if (conflicts.Count == 1)
        {
            message = $"Apply failed with 1 conflict: conflict with {conflicts[0].Manager}: {conflicts[0].Path}";
        }
        else
        {
            var lines = conflicts.GroupBy(c => c.Manager).OrderBy(g => g.Key, StringComparer.Ordinal)
                .SelectMany(g => g.Select(c => $"- {c.Path}").Prepend($"conflicts with {g.Key}:"));
            message = $"Apply failed with {conflicts.Count} conflicts: {string.Join("\n", lines)}";
        }
        var causes = conflicts.Select(c => (JsonNode)new JsonObject
        {
            ["reason"] = "FieldManagerConflict",
            ["message"] = $"conflict with {c.Manager}",
            ["field"] = c.Path,
        }).ToArray();
        return new ApiException(409, "Conflict", message, new JsonObject { ["causes"] = new JsonArray(causes) });
    }
}
