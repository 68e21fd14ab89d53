using System.Text.Json.Nodes;
using Podnet.ApiServer.Fields;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Patch;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Registry;

internal enum PatchType
{
    Merge,
    Strategic,
    Json,

    /// <summary>Server-side apply (application/apply-patch+yaml): the body is the applier's whole intent.</summary>
    Apply,
}

internal sealed partial class ResourceService
{
    /// <summary>Subresource name for the server's own writes: the object is taken as changed, status and spec alike.</summary>
    public const string Internal = "$internal";

    public Task<JsonObject> UpdateAsync(ResourceInfo r, string? ns, string name, string? sub, JsonObject body, bool dryRun, FieldManager? manager = null) =>
        store.WriteAsync(txn =>
        {
            txn.Discard = dryRun;
            if (body.Name() is { Length: > 0 } bodyName && bodyName != name)
            {
                throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            }
            if (sub == "scale")
            {
                return UpdateScale(txn, r, ns ?? "", name, _ => body, manager);
            }
            return Update(txn, r, ns ?? "", name, sub, _ => body.DeepClone().AsObject(), (string?)body["metadata"]?["resourceVersion"], Tracked(manager, sub));
        });

    /// <param name="checkResult">
    /// Run on the patched object before it is admitted (the caller's field validation of what a
    /// JSON patch, whose operations name no schema, leaves); it may throw to refuse the write.
    /// </param>
    public Task<JsonObject> PatchAsync(ResourceInfo r, string? ns, string name, string? sub, PatchType type, JsonNode patch, bool dryRun, FieldManager? manager = null, Action<JsonObject>? checkResult = null) =>
        store.WriteAsync(txn =>
        {
            txn.Discard = dryRun;
            var precondition = patch is JsonObject patchObject ? (string?)patchObject["metadata"]?["resourceVersion"] : null;
            JsonObject Patched(JsonObject current)
            {
                var result = ApplyPatch(current, type, patch);
                checkResult?.Invoke(result);
                return result;
            }
            if (sub == "scale")
            {
                return UpdateScale(txn, r, ns ?? "", name, Patched, manager);
            }
            return Update(txn, r, ns ?? "", name, sub, Patched, type == PatchType.Json ? null : precondition, Tracked(manager, sub));
        });

    /// <summary>
    /// Server-side apply: merges <paramref name="config"/> into the object as
    /// <paramref name="manager"/>'s intent, or creates the object from it; Created tells which.
    /// </summary>
    public Task<(JsonObject Object, bool Created)> ServerSideApplyAsync(ResourceInfo r, string? ns, string name, string? sub, JsonObject config, FieldManager manager, bool force, bool dryRun) =>
        store.WriteAsync(txn =>
        {
            txn.Discard = dryRun;
            if (sub is not (null or "status"))
            {
                throw ApiException.BadRequest($"server-side apply is served for the object and its status, not the {sub} subresource");
            }
            if (config.Name() is { Length: > 0 } configName && configName != name)
            {
                throw ApiException.BadRequest($"the name of the object ({configName}) does not match the name on the URL ({name})");
            }
            if ((string?)config["kind"] is { } kind && kind != r.Kind || (string?)config["apiVersion"] is { } version && version != r.ApiVersion)
            {
                throw ApiException.BadRequest($"the API version in the data ({config["apiVersion"]}) does not match the expected API version ({r.ApiVersion})");
            }
            var applier = manager with { Subresource = sub };
            var now = clock.GetUtcNow();
            if (txn.Get(r.Key, ns ?? "", name) is null)
            {
                if (sub is not null)
                {
                    throw ApiException.NotFound(r, name);
                }
                var empty = new JsonObject { ["apiVersion"] = r.ApiVersion, ["kind"] = r.Kind, ["metadata"] = new JsonObject { ["name"] = name } };
                return (Create(txn, r, ns, ManagedFields.Apply(r, empty, config, applier, force, now)), true);
            }
            var precondition = (string?)config["metadata"]?["resourceVersion"];
            return (Update(txn, r, ns ?? "", name, sub, current => ManagedFields.Apply(r, current, config, applier, force, now), precondition), false);
        });

    private static FieldManager? Tracked(FieldManager? manager, string? sub) => manager is null ? null : manager with { Subresource = sub };

    /// <summary>
    /// Replaces an object with what <paramref name="change"/> makes of it, keeping the fields
    /// the server owns; no write when nothing changed (the resourceVersion stays).
    /// </summary>
    /// <remarks>
    /// A <paramref name="manager"/> is recorded in managedFields as owning what this write
    /// changed; without one (the server's own writes, server-side apply, which sets them itself)
    /// the managedFields <paramref name="change"/> leaves are kept.
    /// </remarks>
    public JsonObject Update(StoreTransaction txn, ResourceInfo r, string ns, string name, string? sub, Func<JsonObject, JsonObject> change, string? precondition, FieldManager? manager = null)
    {
        var stored = txn.Get(r.Key, ns, name) ?? throw ApiException.NotFound(r, name);
        var current = stored.Parse();
        if (precondition is { Length: > 0 } && precondition != current.Meta()["resourceVersion"]?.ToString())
        {
            throw ApiException.Conflict(r, name);
        }
        var desired = change(current.DeepClone().AsObject());
        if (sub is "binding")
        {
            throw ApiException.MethodNotAllowed("binding only accepts POST");
        }
        var updated = sub == "status" ? WithStatus(r, current, desired) : WithServerFields(r, current, desired);
        if (r.HasSubresource("status") && sub is null && r != ResourceCatalog.Namespaces)
        {
            if (current["status"] is { } status)
            {
                updated["status"] = status.DeepClone();
            }
            else
            {
                updated.Remove("status");
            }
        }
        admission.Admit(txn, r, updated, current);
        // As deploymentStrategy: annotations are copied to the ReplicaSets, so changing them is a new generation too.
        var annotationsChanged = r == ResourceCatalog.Deployments && sub is null && !JsonNode.DeepEquals(current.Meta()["annotations"], updated.Meta()["annotations"]);
        if ((SpecChanged(current, updated) || annotationsChanged) && current.Meta()["generation"] is not null)
        {
            updated.Meta()["generation"] = (ObjectMeta.Long(current.Meta()["generation"]) ?? 0) + 1;
        }
        if (manager is not null)
        {
            ManagedFields.Track(r, current, updated, manager, clock.GetUtcNow());
        }
        else if (desired.Meta()["managedFields"] is { } fields)
        {
            updated.Meta()["managedFields"] = fields.DeepClone();
        }
        if (ObjectMeta.SameContent(current, updated))
        {
            return current;
        }
        if (updated.IsDeleting() && updated.Finalizers().Count == 0 && !IsGracefulPod(r, updated) && r != ResourceCatalog.Namespaces)
        {
            return FinishDelete(txn, r, updated);
        }
        var written = txn.Put(r.Key, updated).Parse();
        AfterWrite(txn, r, name, current, written);
        return written;
    }

    /// <summary>
    /// A write to /status, as kube-apiserver's status strategies: the status and the metadata
    /// (labels, annotations, finalizers, ownerReferences) are the writer's, everything else
    /// (spec) stays as stored. Upstream's exceptions: a Deployment keeps its labels
    /// (deploymentStatusStrategy resets metadata.labels) and a Pod its ownerReferences.
    /// </summary>
    private static JsonObject WithStatus(ResourceInfo r, JsonObject current, JsonObject desired)
    {
        var updated = WithServerFields(r, current, desired);
        foreach (var key in updated.Select(p => p.Key).Where(k => k is not ("metadata" or "status" or "kind" or "apiVersion")).ToList())
        {
            updated.Remove(key);
        }
        foreach (var (key, value) in current.Where(p => p.Key is not ("metadata" or "status" or "kind" or "apiVersion")))
        {
            updated[key] = value?.DeepClone();
        }
        var keep = r == ResourceCatalog.Deployments ? "labels" : r == ResourceCatalog.Pods ? "ownerReferences" : null;
        if (keep is not null)
        {
            if (current.Meta()[keep] is { } kept)
            {
                updated.Meta()[keep] = kept.DeepClone();
            }
            else
            {
                updated.Meta().Remove(keep);
            }
        }
        return updated;
    }

    private static JsonObject WithServerFields(ResourceInfo r, JsonObject current, JsonObject desired)
    {
        desired["kind"] = r.Kind;
        desired["apiVersion"] = r.ApiVersion;
        var meta = desired.Meta();
        var old = current.Meta();
        foreach (var field in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name" })
        {
            if (old[field] is { } value)
            {
                meta[field] = value.DeepClone();
            }
            else
            {
                meta.Remove(field);
            }
        }
        meta.Remove("resourceVersion");
        return desired;
    }

    private static bool SpecChanged(JsonObject current, JsonObject updated)
    {
        var a = current.DeepClone().AsObject();
        var b = updated.DeepClone().AsObject();
        foreach (var o in new[] { a, b })
        {
            o.Remove("metadata");
            o.Remove("status");
        }
        return !JsonNode.DeepEquals(a, b);
    }

    private static JsonObject ApplyPatch(JsonObject current, PatchType type, JsonNode patch)
    {
        try
        {
            var result = type switch
            {
                PatchType.Apply => throw new InvalidOperationException("server-side apply goes through ServerSideApplyAsync"),
                PatchType.Json => JsonPatch.Apply(current, patch as JsonArray ?? throw new FormatException("a json patch must be a JSON array of operations")),
                PatchType.Strategic => StrategicMergePatch.Apply(current, patch as JsonObject ?? throw new FormatException("a strategic merge patch must be a JSON object")),
                _ => MergePatch.Apply(current, patch as JsonObject ?? throw new FormatException("a merge patch must be a JSON object")),
            };
            return result as JsonObject ?? throw new FormatException("the patch does not leave an object");
        }
        catch (FormatException e)
        {
            throw new ApiException(422, "Invalid", e.Message);
        }
    }

    public Task<JsonObject> GetScale(ResourceInfo r, string? ns, string name) => Task.FromResult(ToScale(r, Get(r, ns, name)));

    private JsonObject UpdateScale(StoreTransaction txn, ResourceInfo r, string ns, string name, Func<JsonObject, JsonObject> change, FieldManager? manager)
    {
        var stored = txn.Get(r.Key, ns, name) ?? throw ApiException.NotFound(r, name);
        var scale = change(ToScale(r, stored.Parse()));
        var replicas = ObjectMeta.Long(scale["spec"]?["replicas"]);
        if (replicas is null or < 0)
        {
            throw ApiException.Invalid(r, name, [FieldCause.Invalid("spec.replicas", replicas, "must be greater than or equal to 0")]);
        }
        var updated = Update(txn, r, ns, name, Internal, current =>
        {
            var (parent, field) = ScalePath(current, r.Custom?.SpecReplicasPath ?? ".spec.replicas", create: true);
            parent![field] = replicas;
            return current;
        }, (string?)scale["metadata"]?["resourceVersion"], manager is null ? null : manager with { Subresource = "scale" });
        return ToScale(r, updated);
    }

    /// <summary>
    /// The object holding the last field of a scale path (".spec.replicas", a CRD's
    /// specReplicasPath), made on the way when <paramref name="create"/>; null when absent.
    /// </summary>
    private static (JsonObject? Parent, string Field) ScalePath(JsonObject obj, string path, bool create)
    {
        var parts = path.Split('.', StringSplitOptions.RemoveEmptyEntries);
        JsonObject? at = obj;
        foreach (var part in parts[..^1])
        {
            at = at?[part] as JsonObject ?? (create && at is not null ? (JsonObject)(at[part] = new JsonObject()) : null);
        }
        return (at, parts[^1]);
    }

    private static JsonNode? AtScalePath(JsonObject obj, string path) => ScalePath(obj, path, create: false) is ({ } p, var f) ? p[f] : null;

    private static JsonObject ToScale(ResourceInfo r, JsonObject obj)
    {
        var custom = r.Custom;
        var selector = custom is not null ? (custom.LabelSelectorPath is { } sp ? AtScalePath(obj, sp)?.ToString() ?? "" : "")
            : obj["spec"]?["selector"]?["matchLabels"] is JsonObject labels
            ? string.Join(",", labels.Select(p => $"{p.Key}={(string?)p.Value}"))
            : "";
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = obj.Name(),
                ["namespace"] = obj.Namespace(),
                ["uid"] = obj.Uid(),
                ["resourceVersion"] = obj.Meta()["resourceVersion"]?.DeepClone(),
                ["creationTimestamp"] = obj.Meta()["creationTimestamp"]?.DeepClone(),
            },
            ["spec"] = new JsonObject { ["replicas"] = ObjectMeta.Long(AtScalePath(obj, custom?.SpecReplicasPath ?? ".spec.replicas")) ?? (custom is null ? 1 : 0) },
            ["status"] = new JsonObject { ["replicas"] = ObjectMeta.Long(AtScalePath(obj, custom?.StatusReplicasPath ?? ".status.replicas")) ?? 0, ["selector"] = selector },
        };
    }

    /// <summary>POST pods/NAME/binding: assigns the pod to a node once, as the scheduler does.</summary>
    public Task<JsonObject> BindAsync(string ns, string name, JsonObject binding) =>
        store.WriteAsync(txn =>
        {
            var node = (string?)binding["target"]?["name"];
            if (string.IsNullOrEmpty(node))
            {
                throw ApiException.Invalid(ResourceCatalog.Pods, name, [FieldCause.Required("target.name")]);
            }
            Update(txn, ResourceCatalog.Pods, ns, name, Internal, pod =>
            {
                if ((string?)pod["spec"]?["nodeName"] is { Length: > 0 } assigned)
                {
                    throw ApiException.Conflict(ResourceCatalog.Pods, name, $"pod {name} is already assigned to node \"{assigned}\"");
                }
                pod.Child("spec")["nodeName"] = node;
                var conditions = pod.Child("status")["conditions"] as JsonArray ?? [];
                conditions.Add((JsonNode)new JsonObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastProbeTime"] = null, ["lastTransitionTime"] = ObjectMeta.Timestamp(clock.GetUtcNow()) });
                pod.Child("status")["conditions"] = conditions;
                return pod;
            }, null);
            return Success(ResourceCatalog.Pods, name, "");
        });

    public static JsonObject Success(ResourceInfo r, string name, string uid)
    {
        var details = new JsonObject { ["name"] = name };
        if (r.Group.Length > 0)
        {
            details["group"] = r.Group;
        }
        details["kind"] = r.Plural;
        if (uid.Length > 0)
        {
            details["uid"] = uid;
        }
        return new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["details"] = details };
    }
}
