using System.Globalization;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

/// <summary>apps/v1 DaemonSet: kube-apiserver's rules for its spec, with its field paths and messages.</summary>
internal static class DaemonSetValidation
{
    public static void Validate(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        var selector = spec["selector"] as JsonObject;
        var matchLabels = selector?["matchLabels"] as JsonObject;
        if (selector is null)
        {
            causes.Add(FieldCause.Required("spec.selector"));
        }
        else if (matchLabels is null or { Count: 0 } && selector["matchExpressions"] is null or JsonArray { Count: 0 })
        {
            causes.Add(FieldCause.Invalid("spec.selector", selector.ToJsonString(), "empty selector is invalid for daemonset"));
        }
        var templateLabels = spec["template"]?["metadata"]?["labels"] as JsonObject;
        if (matchLabels is not null && matchLabels.Any(p => (string?)templateLabels?[p.Key] != (string?)p.Value))
        {
            causes.Add(FieldCause.Invalid("spec.template.metadata.labels", templateLabels?.ToJsonString() ?? "{}", "`selector` does not match template `labels`"));
        }
        if (old is not null && !JsonNode.DeepEquals(old["spec"]?["selector"], spec["selector"]))
        {
            causes.Add(FieldCause.Invalid("spec.selector", spec["selector"]?.ToJsonString() ?? "null", "field is immutable"));
        }
        var podSpec = spec["template"]?["spec"] as JsonObject;
        PodValidation.Spec(podSpec, "spec.template.spec", causes);
        if ((string?)podSpec?["restartPolicy"] is { } restart && restart != "Always")
        {
            causes.Add(FieldCause.NotSupported("spec.template.spec.restartPolicy", restart, ["Always"]));
        }
        if (podSpec?["activeDeadlineSeconds"] is not null)
        {
            causes.Add(FieldCause.Forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in DaemonSet is not Supported"));
        }
        foreach (var field in new[] { "minReadySeconds", "revisionHistoryLimit" })
        {
            if (ObjectMeta.Long(spec[field]) is < 0 and var value)
            {
                causes.Add(FieldCause.Invalid($"spec.{field}", value, "must be greater than or equal to 0"));
            }
        }
        UpdateStrategy(spec["updateStrategy"] as JsonObject, causes);
    }

    private static void UpdateStrategy(JsonObject? strategy, List<FieldCause> causes)
    {
        var type = (string?)strategy?["type"];
        if (type is not ("RollingUpdate" or "OnDelete"))
        {
            causes.Add(FieldCause.NotSupported("spec.updateStrategy.type", type ?? "", ["OnDelete", "RollingUpdate"]));
            return;
        }
        if (type != "RollingUpdate" || strategy!["rollingUpdate"] is not JsonObject rolling)
        {
            return;
        }
        var unavailable = IntOrPercent(rolling["maxUnavailable"], "spec.updateStrategy.rollingUpdate.maxUnavailable", causes);
        var surge = IntOrPercent(rolling["maxSurge"], "spec.updateStrategy.rollingUpdate.maxSurge", causes);
        if (unavailable == 0 && surge == 0)
        {
            causes.Add(FieldCause.Invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", rolling["maxUnavailable"]?.ToJsonString().Trim('"'), "may not be 0 when `maxSurge` is 0"));
        }
    }

    /// <summary>An int or a percentage, not negative, a percentage not over 100%: its number (-1 when invalid or absent).</summary>
    public static long IntOrPercent(JsonNode? value, string field, List<FieldCause> causes)
    {
        if (value is null)
        {
            return -1;
        }
        if (value.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var text = (string)value!;
            if (!text.EndsWith('%') || !long.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
            {
                causes.Add(FieldCause.Invalid(field, text, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
                return -1;
            }
            if (percent > 100)
            {
                causes.Add(FieldCause.Invalid(field, text, "must not be greater than 100%"));
            }
            return percent;
        }
        if (ObjectMeta.Long(value) is not { } number || number < 0)
        {
            causes.Add(FieldCause.Invalid(field, value.ToJsonString(), "must be greater than or equal to 0"));
            return -1;
        }
        return number;
    }
}
