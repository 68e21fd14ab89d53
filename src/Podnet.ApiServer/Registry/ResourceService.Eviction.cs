using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Registry;

/// <summary>
/// POST pods/NAME/eviction (policy/v1 Eviction), as kube-apiserver's eviction REST: a pod no
/// PodDisruptionBudget covers is deleted; a covered pod is deleted only while its budget allows a
/// disruption, and the budget's status is charged for it (disruptionsAllowed one less, the pod in
/// disruptedPods) in the same write, so two evictions racing cannot both spend the last one.
/// </summary>
/// <remarks>
/// The PodDisruptionBudget controller recomputes the status from the pods; disruptedPods tells it
/// which pods were evicted but are still in the store, so that it does not hand the same
/// disruption out again before the deletion shows.
/// </remarks>
internal sealed partial class ResourceService
{
    /// <summary>Upstream's bound on a budget's disruptedPods.</summary>
    private const int MaxDisruptedPods = 2000;

    private const string ViolationMessage = "Cannot evict pod as it would violate the pod's disruption budget.";

    public Task<JsonObject> EvictAsync(string ns, string name, JsonObject eviction, DeleteOptions options) =>
        store.WriteAsync(txn =>
        {
            txn.Discard = options.DryRun;
            if (eviction.Name() is { Length: > 0 } evictionName && evictionName != name)
            {
                throw ApiException.BadRequest("name in URL does not match name in Eviction object");
            }
            var pod = txn.Get(ResourceCatalog.Pods.Key, ns, name)?.Parse() ?? throw ApiException.NotFound(ResourceCatalog.Pods, name);
            if (options.PreconditionUid is { Length: > 0 } uid && uid != pod.Uid())
            {
                throw ApiException.Conflict(ResourceCatalog.Pods, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {pod.Uid()}");
            }
            var phase = (string?)pod["status"]?["phase"];
            // As upstream's canIgnorePDB: a pod that is done, not started, or already going is no disruption.
            if (phase is "Succeeded" or "Failed" or "Pending" || pod.IsDeleting())
            {
                Delete(txn, ResourceCatalog.Pods, pod, options);
                return Success(ResourceCatalog.Pods, name, "");
            }
            var budgets = txn.List(ResourceCatalog.PodDisruptionBudgets.Key, ns)
                .Select(b => b.Parse())
                .Where(b => b["spec"]?["selector"] is JsonObject selector && SelectorMatches(selector, pod.Meta()["labels"] as JsonObject))
                .ToList();
            if (budgets.Count > 1)
            {
                throw new ApiException(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
            }
            if (budgets.Count == 1 && !MayDisrupt(pod, budgets[0]))
            {
                ChargeBudget(txn, budgets[0], name);
            }
            MarkDisruptionTarget(txn, pod);
            Delete(txn, ResourceCatalog.Pods, txn.Get(ResourceCatalog.Pods.Key, ns, name)!.Parse(), options);
            return Success(ResourceCatalog.Pods, name, "");
        });

    /// <summary>An unhealthy pod may go without spending the budget, as unhealthyPodEvictionPolicy says.</summary>
    private static bool MayDisrupt(JsonObject pod, JsonObject budget)
    {
        var ready = (pod["status"]?["conditions"] as JsonArray ?? []).Any(c => (string?)c?["type"] == "Ready" && (string?)c?["status"] == "True");
        if (ready)
        {
            return false;
        }
        if ((string?)budget["spec"]?["unhealthyPodEvictionPolicy"] == "AlwaysAllow")
        {
            return true;
        }
        var status = budget["status"];
        var observed = ObjectMeta.Long(status?["observedGeneration"]) ?? 0;
        var desired = ObjectMeta.Long(status?["desiredHealthy"]) ?? 0;
        return observed >= (ObjectMeta.Long(budget.Meta()["generation"]) ?? 0)
            && (ObjectMeta.Long(status?["currentHealthy"]) ?? 0) >= desired && desired > 0;
    }

    private void ChargeBudget(StoreTransaction txn, JsonObject budget, string podName)
    {
        var status = budget["status"] as JsonObject ?? [];
        var generation = ObjectMeta.Long(budget.Meta()["generation"]) ?? 0;
        if ((ObjectMeta.Long(status["observedGeneration"]) ?? 0) < generation)
        {
            throw TooManyRequests($"The disruption budget {budget.Name()} is still being processed by the server.");
        }
        var allowed = ObjectMeta.Long(status["disruptionsAllowed"]) ?? 0;
        if (allowed < 0)
        {
            throw new ApiException(403, "Forbidden", "pdb disruptions allowed is negative");
        }
        if ((status["disruptedPods"] as JsonObject)?.Count > MaxDisruptedPods)
        {
            throw new ApiException(403, "Forbidden", "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
        }
        if (allowed == 0)
        {
            throw TooManyRequests($"The disruption budget {budget.Name()} needs {ObjectMeta.Long(status["desiredHealthy"]) ?? 0} healthy pods and has {ObjectMeta.Long(status["currentHealthy"]) ?? 0} currently");
        }
        Update(txn, ResourceCatalog.PodDisruptionBudgets, budget.Namespace(), budget.Name(), "status", current =>
        {
            var s = current.Child("status");
            s["disruptionsAllowed"] = allowed - 1;
            s.Child("disruptedPods")[podName] = ObjectMeta.Timestamp(clock.GetUtcNow());
            return current;
        }, null);
    }

    /// <summary>The DisruptionTarget condition upstream sets on a pod it is about to evict.</summary>
    private void MarkDisruptionTarget(StoreTransaction txn, JsonObject pod)
    {
        Update(txn, ResourceCatalog.Pods, pod.Namespace(), pod.Name(), "status", current =>
        {
            var conditions = current.Child("status")["conditions"] as JsonArray ?? [];
            if (!conditions.Any(c => (string?)c?["type"] == "DisruptionTarget"))
            {
                conditions.Add((JsonNode)new JsonObject
                {
                    ["type"] = "DisruptionTarget",
                    ["status"] = "True",
                    ["lastProbeTime"] = null,
                    ["lastTransitionTime"] = ObjectMeta.Timestamp(clock.GetUtcNow()),
                    ["reason"] = "EvictionByEvictionAPI",
                    ["message"] = "Eviction API: evicting",
                });
            }
            current.Child("status")["conditions"] = conditions;
            return current;
        }, null);
    }

    private static ApiException TooManyRequests(string cause) =>
        new(429, "TooManyRequests", ViolationMessage, new JsonObject
        {
            ["causes"] = new JsonArray(new JsonObject { ["reason"] = "DisruptionBudget", ["message"] = cause }),
        });

    /// <summary>A metav1.LabelSelector over a pod's labels; an empty selector matches nothing here, as in eviction upstream.</summary>
    internal static bool SelectorMatches(JsonObject selector, JsonObject? labels)
    {
        var matchLabels = selector["matchLabels"] as JsonObject ?? [];
        var expressions = selector["matchExpressions"] as JsonArray ?? [];
        if (matchLabels.Count == 0 && expressions.Count == 0)
        {
            return false;
        }
        string? Label(string key) => labels?[key] is JsonValue v ? (string?)v : null;
        if (matchLabels.Any(p => Label(p.Key) != (string?)p.Value))
        {
            return false;
        }
        foreach (var e in expressions.OfType<JsonObject>())
        {
            var value = Label((string?)e["key"] ?? "");
            var values = (e["values"] as JsonArray ?? []).Select(v => (string?)v).ToList();
            var ok = (string?)e["operator"] switch
            {
                "In" => value is not null && values.Contains(value),
                "NotIn" => value is null || !values.Contains(value),
                "Exists" => value is not null,
                "DoesNotExist" => value is null,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
