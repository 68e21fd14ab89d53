using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

/// <summary>Per-kind rules, with kube-apiserver's field paths, reasons and messages.</summary>
internal static class KindValidation
{
    public static void Validate(ResourceInfo r, JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        switch (r.Key)
        {
            case "pods":
                PodValidation.Spec(obj["spec"] as JsonObject, "spec", causes);
                if (old is not null)
                {
                    PodValidation.Immutable(old["spec"] as JsonObject, obj["spec"] as JsonObject, causes);
                }
                break;
            case "services":
                ServiceValidation.Validate(obj, old, causes);
                break;
            case "apps/deployments" or "apps/replicasets":
                Workload(obj, old, causes);
                break;
            case "apps/statefulsets":
                StatefulValidation.StatefulSet(obj, old, causes);
                break;
            case "apps/controllerrevisions":
                StatefulValidation.ControllerRevision(obj, old, causes);
                break;
            case "policy/poddisruptionbudgets":
                StatefulValidation.PodDisruptionBudget(obj, causes);
                break;
            case "apps/daemonsets":
                DaemonSetValidation.Validate(obj, old, causes);
                break;
            case "networking.k8s.io/ingresses":
                IngressValidation.Ingress(obj, old, causes);
                break;
            case "networking.k8s.io/ingressclasses":
                IngressValidation.IngressClass(obj, old, causes);
                break;
            case "networking.k8s.io/servicecidrs":
                ServiceCidrValidation.ServiceCidr(obj, old, causes);
                break;
            case "networking.k8s.io/ipaddresses":
                ServiceCidrValidation.IPAddress(obj, old, causes);
                break;
            case "networking.k8s.io/networkpolicies":
                NetworkPolicyValidation.Validate(obj["spec"] as JsonObject ?? [], causes);
                break;
            case "configmaps" or "secrets":
                DataKeys(obj, causes);
                Immutable(obj, old, causes);
                break;
            case "nodes" when old is not null:
                NodeUpdate(obj, old, causes);
                break;
        }
    }

    /// <summary>
    /// Upstream's ValidateNodeUpdate on what node IPAM and the cloud set once: spec.podCIDRs and
    /// spec.providerID may go from empty to a value, never change after. So an agent never sees
    /// its node's pod CIDRs move under its pods (upstream's way to a new range: drain, delete the
    /// Node, let it register again).
    /// </summary>
    private static void NodeUpdate(JsonObject obj, JsonObject old, List<FieldCause> causes)
    {
        static string[] Cidrs(JsonObject node) =>
            (node["spec"]?["podCIDRs"] as JsonArray ?? []).Select(c => c?.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)c! : "").ToArray();
        var before = Cidrs(old);
        if (before.Length > 0 && !before.SequenceEqual(Cidrs(obj)))
        {
            causes.Add(FieldCause.Forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid"));
        }
        var provider = (string?)old["spec"]?["providerID"] ?? "";
        if (provider.Length > 0 && (obj["spec"]?["providerID"] is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String || (string)v! != provider))
        {
            causes.Add(FieldCause.Forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"));
        }
    }

    private static void Workload(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        if (ObjectMeta.Long(spec["replicas"]) is < 0 and var replicas)
        {
            causes.Add(FieldCause.Invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
        }
        var selector = spec["selector"] as JsonObject;
        var matchLabels = selector?["matchLabels"] as JsonObject;
        var expressions = selector?["matchExpressions"] as JsonArray;
        if (selector is null || (matchLabels is null or { Count: 0 } && expressions is null or { Count: 0 }))
        {
            causes.Add(FieldCause.Required("spec.selector"));
            causes.Add(FieldCause.Invalid("spec.selector", selector?.ToJsonString() ?? "null", "empty selector is invalid for deployment"));
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
        PodValidation.Spec(spec["template"]?["spec"] as JsonObject, "spec.template.spec", causes);
    }

    /// <summary>A ConfigMap or Secret marked immutable keeps its data and its mark.</summary>
    private static void Immutable(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        if (old is null || (bool?)old["immutable"] != true)
        {
            return;
        }
        if ((bool?)obj["immutable"] != true)
        {
            causes.Add(FieldCause.Forbidden("immutable", "field is immutable when `immutable` is set"));
        }
        foreach (var field in new[] { "data", "binaryData" })
        {
            if (!JsonNode.DeepEquals(old[field], obj[field]))
            {
                causes.Add(FieldCause.Forbidden(field, "field is immutable when `immutable` is set"));
            }
        }
    }

    private static void DataKeys(JsonObject obj, List<FieldCause> causes)
    {
        foreach (var field in new[] { "data", "binaryData", "stringData" })
        {
            foreach (var (key, _) in obj[field] as JsonObject ?? [])
            {
                if (key.Length == 0 || key.Length > 253 || key is "." or ".." || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
                {
                    causes.Add(FieldCause.Invalid($"{field}[{key}]", key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
                }
            }
        }
    }

    /// <summary>A port number field: present and within 1–65535.</summary>
    public static void Port(JsonNode? value, string field, List<FieldCause> causes, bool required = true)
    {
        var port = ObjectMeta.Long(value);
        if (port is null)
        {
            if (required)
            {
                causes.Add(value is null ? FieldCause.Required(field) : FieldCause.Invalid(field, value, "must be between 1 and 65535, inclusive"));
            }
            return;
        }
        if (port is < 1 or > 65535)
        {
            causes.Add(FieldCause.Invalid(field, port, "must be between 1 and 65535, inclusive"));
        }
    }

    public static void Protocol(JsonNode? value, string field, List<FieldCause> causes)
    {
        var protocol = (string?)value ?? "TCP";
        if (protocol is not ("TCP" or "UDP" or "SCTP"))
        {
            causes.Add(FieldCause.NotSupported(field, protocol, ["SCTP", "TCP", "UDP"]));
        }
    }

    public static void Labels(JsonObject? map, string field, List<FieldCause> causes)
    {
        foreach (var (key, value) in map ?? [])
        {
            if (Names.LabelKeyError(key) is { } keyError)
            {
                causes.Add(FieldCause.Invalid(field, key, keyError));
            }
            if (Names.LabelValueError((string?)value ?? "") is { } valueError)
            {
                causes.Add(FieldCause.Invalid($"{field}", (string?)value ?? "", valueError));
            }
        }
    }
}
