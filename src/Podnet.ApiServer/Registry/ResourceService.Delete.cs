using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Registry;

internal sealed record DeleteOptions(long? GracePeriodSeconds, string? PropagationPolicy, string? PreconditionUid, string? PreconditionResourceVersion, bool DryRun)
{
    public static readonly DeleteOptions Default = new(null, null, null, null, false);
}

/// <summary>
/// Deletion as kube-apiserver and its garbage collector do it, folded into the write itself:
/// graceful pod deletion, finalizers, namespace termination and ownerReference cascades
/// (Background, Foreground, Orphan). What must wait (a pod's grace, a foreground owner's
/// dependents, a namespace's pods) is finished by <see cref="Sweep"/>.
/// </summary>
internal sealed partial class ResourceService
{
    private const string ForegroundFinalizer = "foregroundDeletion";
    private const string OrphanFinalizer = "orphan";

    /// <summary>The finalizer every CRD gets, as upstream: its objects are deleted before it goes.</summary>
    public const string CrdCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";
    private static readonly HashSet<string> ProtectedNamespaces = ["default", "kube-system", "kube-public"];

    /// <summary>Deletes; the answer is the object while it still exists (being deleted) or null once gone.</summary>
    public Task<(JsonObject? Remaining, JsonObject Last)> DeleteAsync(ResourceInfo r, string? ns, string name, DeleteOptions options) =>
        store.WriteAsync(txn =>
        {
            txn.Discard = options.DryRun;
            var current = txn.Get(r.Key, ns ?? "", name)?.Parse() ?? throw ApiException.NotFound(r, name);
            if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid())
            {
                throw ApiException.Conflict(r, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid()}");
            }
            if (options.PreconditionResourceVersion is { Length: > 0 } rv && rv != current.Meta()["resourceVersion"]?.ToString())
            {
                throw ApiException.Conflict(r, name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {current.Meta()["resourceVersion"]}");
            }
            var remaining = Delete(txn, r, current, options);
            return (remaining, remaining ?? current);
        });

    public Task<int> DeleteCollectionAsync(ResourceInfo r, string? ns, ListOptions list, DeleteOptions options) =>
        store.WriteAsync(txn =>
        {
            txn.Discard = options.DryRun;
            var count = 0;
            foreach (var item in txn.List(r.Key, ns))
            {
                var obj = item.Parse();
                if (list.Labels.Matches(obj) && list.Fields.Matches(obj) && txn.Get(r.Key, item.Namespace, item.Name) is not null)
                {
                    Delete(txn, r, obj, options);
                    count++;
                }
            }
            return count;
        });

    private JsonObject? Delete(StoreTransaction txn, ResourceInfo r, JsonObject current, DeleteOptions options)
    {
        var now = clock.GetUtcNow();
        if (r == ResourceCatalog.Namespaces)
        {
            return DeleteNamespace(txn, current, now);
        }
        if (r == ResourceCatalog.CustomResourceDefinitions)
        {
            return DeleteDefinition(txn, current, now);
        }
        if (current.IsDeleting())
        {
            if (options.GracePeriodSeconds == 0 && r == ResourceCatalog.Pods && current.Finalizers().Count == 0)
            {
                FinishDelete(txn, r, current);
                return null;
            }
            return current;
        }
        if (r == ResourceCatalog.Pods && GracePeriod(current, options) is var grace and > 0)
        {
            current.Meta()["deletionTimestamp"] = ObjectMeta.Timestamp(now.AddSeconds(grace));
            current.Meta()["deletionGracePeriodSeconds"] = grace;
            return txn.Put(r.Key, current).Parse();
        }
        var policy = options.PropagationPolicy ?? (current.Finalizers().Contains(OrphanFinalizer) ? "Orphan" : "Background");
        if (policy == "Orphan")
        {
            Orphan(txn, current.Uid());
        }
        else if (policy == "Foreground" && LiveDependents(txn, current.Uid()).Count > 0)
        {
            var finalizers = current.Finalizers();
            finalizers.Add(ForegroundFinalizer);
            current.SetFinalizers(finalizers);
            current.Meta()["deletionTimestamp"] = ObjectMeta.Timestamp(now);
            current.Meta()["deletionGracePeriodSeconds"] = 0;
            var pending = txn.Put(r.Key, current).Parse();
            foreach (var (dr, dependent) in LiveDependents(txn, current.Uid()))
            {
                Delete(txn, dr, dependent, DeleteOptions.Default with { PropagationPolicy = "Foreground" });
            }
            return pending;
        }
        if (current.Finalizers().Count > 0)
        {
            current.Meta()["deletionTimestamp"] = ObjectMeta.Timestamp(now);
            current.Meta()["deletionGracePeriodSeconds"] = 0;
            var marked = txn.Put(r.Key, current).Parse();
            if (r == ResourceCatalog.ServiceCidrs)
            {
                ReleaseServiceCidrs(txn);
                return txn.Get(r.Key, "", marked.Name())?.Parse() ?? marked;
            }
            return marked;
        }
        FinishDelete(txn, r, current);
        return null;
    }

    /// <summary>Removes the object for good and deletes (Background) what it owned.</summary>
    private JsonObject FinishDelete(StoreTransaction txn, ResourceInfo r, JsonObject current)
    {
        var last = txn.Delete(r.Key, current).Parse();
        AfterWrite(txn, r, current.Name(), current, null);
        foreach (var (dr, dependent) in LiveDependents(txn, current.Uid()))
        {
            Delete(txn, dr, dependent, DeleteOptions.Default);
        }
        return last;
    }

    private JsonObject? DeleteNamespace(StoreTransaction txn, JsonObject ns, DateTimeOffset now)
    {
        var name = ns.Name();
        if (ProtectedNamespaces.Contains(name))
        {
            throw new ApiException(403, "Forbidden", $"namespaces \"{name}\" is forbidden: this namespace may not be deleted", new JsonObject { ["name"] = name, ["kind"] = "namespaces" });
        }
        if (!ns.IsDeleting())
        {
            ns.Meta()["deletionTimestamp"] = ObjectMeta.Timestamp(now);
            ns.Child("status")["phase"] = "Terminating";
            ns = txn.Put(ResourceCatalog.Namespaces.Key, ns).Parse();
        }
        var remaining = 0;
        foreach (var r in Crds.All.Where(r => r.Namespaced))
        {
            foreach (var item in txn.List(r.Key, name))
            {
                if (txn.Get(r.Key, name, item.Name) is { } live && !live.Deleting)
                {
                    Delete(txn, r, live.Parse(), DeleteOptions.Default);
                }
                remaining += txn.Get(r.Key, name, item.Name) is null ? 0 : 1;
            }
        }
        if (remaining > 0)
        {
            return ns;
        }
        FinishDelete(txn, ResourceCatalog.Namespaces, ns);
        return null;
    }

    /// <summary>
    /// A CustomResourceDefinition's deletion, as apiextensions-apiserver's finalizer
    /// (customresourcecleanup.apiextensions.k8s.io) does it, inside the write: the CRD stops being
    /// served (Terminating), every object of it is deleted; once none is left (objects with
    /// finalizers of their own wait for them, the sweeper comes back), the CRD goes.
    /// </summary>
    private JsonObject? DeleteDefinition(StoreTransaction txn, JsonObject crd, DateTimeOffset now)
    {
        if (!crd.IsDeleting())
        {
            crd.Meta()["deletionTimestamp"] = ObjectMeta.Timestamp(now);
            crd.Meta()["deletionGracePeriodSeconds"] = 0;
            Validation.CrdValidation.SetStatus(txn, crd, crd, now);
            crd = txn.Put(ResourceCatalog.CustomResourceDefinitions.Key, crd).Parse();
        }
        var group = (string?)crd["spec"]?["group"] ?? "";
        var plural = (string?)crd["spec"]?["names"]?["plural"] ?? "";
        var key = $"{group}/{plural}";
        // The definition as it was served, to delete its objects through (it is no longer served).
        var served = CustomResource.From(ActiveCopy(crd))?.Storage;
        var remaining = 0;
        foreach (var item in txn.List(key, null))
        {
            if (served is not null && txn.Get(key, item.Namespace, item.Name) is { Deleting: false } live)
            {
                Delete(txn, served, live.Parse(), DeleteOptions.Default);
            }
            remaining += txn.Get(key, item.Namespace, item.Name) is null ? 0 : 1;
        }
        if (remaining > 0 && served is not null)
        {
            return crd;
        }
        var finalizers = crd.Finalizers();
        finalizers.Remove(CrdCleanupFinalizer);
        crd.SetFinalizers(finalizers);
        if (finalizers.Count > 0)
        {
            return txn.Put(ResourceCatalog.CustomResourceDefinitions.Key, crd).Parse();
        }
        FinishDelete(txn, ResourceCatalog.CustomResourceDefinitions, crd);
        return null;
    }

    private static JsonObject ActiveCopy(JsonObject crd)
    {
        var copy = crd.DeepClone().AsObject();
        copy.Meta().Remove("deletionTimestamp");
        copy["status"] = new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Established", ["status"] = "True" }) };
        return copy;
    }

    private static long GracePeriod(JsonObject pod, DeleteOptions options)
    {
        var scheduled = (string?)pod["spec"]?["nodeName"] is { Length: > 0 };
        var phase = (string?)pod["status"]?["phase"];
        if (!scheduled || phase is "Succeeded" or "Failed")
        {
            return 0;
        }
        return Math.Max(0, options.GracePeriodSeconds ?? ObjectMeta.Long(pod["spec"]?["terminationGracePeriodSeconds"]) ?? 30);
    }

    private static bool IsGracefulPod(ResourceInfo r, JsonObject obj) =>
        r == ResourceCatalog.Pods && (ObjectMeta.Long(obj.Meta()["deletionGracePeriodSeconds"]) ?? 0) > 0;

    private List<(ResourceInfo, JsonObject)> LiveDependents(StoreTransaction txn, string uid)
    {
        var result = new List<(ResourceInfo, JsonObject)>();
        if (uid.Length == 0)
        {
            return result;
        }
        foreach (var d in store.Dependents(uid))
        {
            if (txn.Get(d.Resource, d.Namespace, d.Name) is { } live && live.OwnerUids.Contains(uid))
            {
                if (Crds.ByKey(d.Resource) is { } dr)
                {
                    result.Add((dr, live.Parse()));
                }
            }
        }
        return result;
    }

    private void Orphan(StoreTransaction txn, string uid)
    {
        foreach (var (dr, dependent) in LiveDependents(txn, uid))
        {
            Update(txn, dr, dependent.Namespace(), dependent.Name(), Internal, d =>
            {
                var refs = d.Meta()["ownerReferences"] as JsonArray ?? [];
                var kept = refs.Where(x => (string?)x?["uid"] != uid).Select(x => x?.DeepClone()).ToArray();
                if (kept.Length == 0)
                {
                    d.Meta().Remove("ownerReferences");
                }
                else
                {
                    d.Meta()["ownerReferences"] = new JsonArray(kept);
                }
                return d;
            }, null);
        }
    }
}
