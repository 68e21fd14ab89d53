using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// StatefulSet, ControllerRevision and PodDisruptionBudget rules, with kube-apiserver's field
/// paths and messages. One rule is the lab's own: it has no storage, so a StatefulSet that asks
/// for volume claims is refused rather than left waiting for claims that can never bind.
/// </summary>
internal static class StatefulValidation
{
    /// <summary>The spec fields upstream lets an update change; any other is forbidden.</summary>
    private static readonly string[] Mutable = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

    public static void StatefulSet(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        if (ObjectMeta.Long(spec["replicas"]) is < 0 and var replicas)
        {
            causes.Add(FieldCause.Invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
        }
        if (ObjectMeta.Long(spec["minReadySeconds"]) is < 0 and var minReady)
        {
            causes.Add(FieldCause.Invalid("spec.minReadySeconds", minReady, "must be greater than or equal to 0"));
        }
        if ((string?)spec["serviceName"] is { Length: > 0 } serviceName && Names.Dns1123LabelError(serviceName) is { } nameError)
        {
            causes.Add(FieldCause.Invalid("spec.serviceName", serviceName, nameError));
        }
        if (spec["volumeClaimTemplates"] is JsonArray { Count: > 0 })
        {
            causes.Add(FieldCause.Forbidden("spec.volumeClaimTemplates", "volume claims are not supported in the Podnet lab, which has no storage (no PersistentVolumes or provisioner); remove volumeClaimTemplates"));
        }
        var policy = (string?)spec["podManagementPolicy"] ?? "OrderedReady";
        if (policy is not ("OrderedReady" or "Parallel"))
        {
            causes.Add(FieldCause.NotSupported("spec.podManagementPolicy", policy, ["OrderedReady", "Parallel"]));
        }
        UpdateStrategy(spec["updateStrategy"] as JsonObject ?? [], causes);
        Selector(spec, "statefulset", causes);
        var restart = (string?)spec["template"]?["spec"]?["restartPolicy"] ?? "Always";
        if (restart != "Always")
        {
            causes.Add(FieldCause.NotSupported("spec.template.spec.restartPolicy", restart, ["Always"]));
        }
        PodValidation.Spec(spec["template"]?["spec"] as JsonObject, "spec.template.spec", causes);
        if (old?["spec"] is JsonObject oldSpec)
        {
            var changed = spec.Select(p => p.Key).Union(oldSpec.Select(p => p.Key))
                .Where(k => !Mutable.Contains(k) && !JsonNode.DeepEquals(spec[k], oldSpec[k]));
            if (changed.Any())
            {
                causes.Add(FieldCause.Forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
            }
        }
    }

    private static void UpdateStrategy(JsonObject strategy, List<FieldCause> causes)
    {
        var type = (string?)strategy["type"] ?? "RollingUpdate";
        if (type is not ("RollingUpdate" or "OnDelete"))
        {
            causes.Add(FieldCause.NotSupported("spec.updateStrategy.type", type, ["OnDelete", "RollingUpdate"]));
            return;
        }
        if (strategy["rollingUpdate"] is not JsonObject rolling)
        {
            return;
        }
        if (type != "RollingUpdate")
        {
            causes.Add(FieldCause.Invalid("spec.updateStrategy.rollingUpdate", rolling.ToJsonString(), "only allowed for updateStrategy 'RollingUpdate'"));
            return;
        }
        if (ObjectMeta.Long(rolling["partition"]) is < 0 and var partition)
        {
            causes.Add(FieldCause.Invalid("spec.updateStrategy.rollingUpdate.partition", partition, "must be greater than or equal to 0"));
        }
        if (rolling["maxUnavailable"] is { } maxUnavailable)
        {
            IntOrPercent(maxUnavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable", causes);
            if (ObjectMeta.Long(maxUnavailable) == 0 || (string?)(maxUnavailable as JsonValue)?.ToString() == "0%")
            {
                causes.Add(FieldCause.Invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", maxUnavailable, "must be greater than 0"));
            }
        }
    }

    private static void Selector(JsonObject spec, string kind, List<FieldCause> causes)
    {
        var selector = spec["selector"] as JsonObject;
        var matchLabels = selector?["matchLabels"] as JsonObject;
        var expressions = selector?["matchExpressions"] as JsonArray;
        if (selector is null || (matchLabels is null or { Count: 0 } && expressions is null or { Count: 0 }))
        {
            causes.Add(FieldCause.Required("spec.selector"));
            causes.Add(FieldCause.Invalid("spec.selector", selector?.ToJsonString() ?? "null", $"empty selector is invalid for {kind}"));
            return;
        }
        var templateLabels = spec["template"]?["metadata"]?["labels"] as JsonObject;
        if (matchLabels is not null && matchLabels.Any(p => (string?)templateLabels?[p.Key] != (string?)p.Value))
        {
            causes.Add(FieldCause.Invalid("spec.template.metadata.labels", templateLabels?.ToJsonString() ?? "{}", "`selector` does not match template `labels`"));
        }
    }

    public static void ControllerRevision(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        if (obj["data"] is null)
        {
            causes.Add(FieldCause.Required("data", "data is mandatory"));
        }
        if (ObjectMeta.Long(obj["revision"]) is < 0 and var revision)
        {
            causes.Add(FieldCause.Invalid("revision", revision, "must be greater than or equal to 0"));
        }
        if (old is not null && !JsonNode.DeepEquals(old["data"], obj["data"]))
        {
            causes.Add(FieldCause.Invalid("data", obj["data"], "field is immutable"));
        }
    }

    public static void PodDisruptionBudget(JsonObject obj, List<FieldCause> causes)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        if (spec["minAvailable"] is not null && spec["maxUnavailable"] is not null)
        {
            causes.Add(FieldCause.Invalid("spec", spec.ToJsonString(), "minAvailable and maxUnavailable cannot be both set"));
        }
        foreach (var field in new[] { "minAvailable", "maxUnavailable" })
        {
            if (spec[field] is { } value)
            {
                IntOrPercent(value, $"spec.{field}", causes);
            }
        }
        var policy = (string?)spec["unhealthyPodEvictionPolicy"];
        if (policy is not (null or "IfHealthyBudget" or "AlwaysAllow"))
        {
            causes.Add(FieldCause.NotSupported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]));
        }
        foreach (var expression in spec["selector"]?["matchExpressions"] as JsonArray ?? [])
        {
            var op = (string?)expression?["operator"];
            if (op is not ("In" or "NotIn" or "Exists" or "DoesNotExist"))
            {
                causes.Add(FieldCause.Invalid("spec.selector.matchExpressions.operator", op ?? "", "not a valid selector operator"));
            }
        }
        KindValidation.Labels(spec["selector"]?["matchLabels"] as JsonObject, "spec.selector.matchLabels", causes);
    }

    /// <summary>An intstr field: a non-negative integer, or a percentage "N%" of at most 100%.</summary>
    public static void IntOrPercent(JsonNode value, string field, List<FieldCause> causes)
    {
        if (value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var text = (string)v!;
            if (text.Length < 2 || text[^1] != '%' || !text[..^1].All(char.IsAsciiDigit) || text.Length > 12)
            {
                causes.Add(FieldCause.Invalid(field, text, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
            }
            else if (long.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture) > 100)
            {
                causes.Add(FieldCause.Invalid(field, text, "must not be greater than 100%"));
            }
            return;
        }
        if (ObjectMeta.Long(value) is < 0 and var number)
        {
            causes.Add(FieldCause.Invalid(field, number, "must be greater than or equal to 0"));
        }
    }
}
