using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

internal static class PodValidation
{
    public static void Spec(JsonObject? spec, string path, List<FieldCause> causes)
    {
        if (spec is null)
        {
            causes.Add(FieldCause.Required(path));
            return;
        }
        if (spec["containers"] is not JsonArray { Count: > 0 } containers)
        {
            causes.Add(FieldCause.Required($"{path}.containers"));
            return;
        }
        var names = new HashSet<string>();
        Containers(containers, $"{path}.containers", names, causes);
        if (spec["initContainers"] is JsonArray init)
        {
            Containers(init, $"{path}.initContainers", names, causes);
        }
        var restart = (string?)spec["restartPolicy"];
        if (restart is not (null or "Always" or "OnFailure" or "Never"))
        {
            causes.Add(FieldCause.NotSupported($"{path}.restartPolicy", restart, ["Always", "Never", "OnFailure"]));
        }
        var dns = (string?)spec["dnsPolicy"];
        if (dns is not (null or "ClusterFirst" or "ClusterFirstWithHostNet" or "Default" or "None"))
        {
            causes.Add(FieldCause.NotSupported($"{path}.dnsPolicy", dns, ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]));
        }
        if ((string?)spec["hostname"] is { } hostname && Names.Dns1123LabelError(hostname) is { } hostError)
        {
            causes.Add(FieldCause.Invalid($"{path}.hostname", hostname, hostError));
        }
    }

    private static void Containers(JsonArray containers, string path, HashSet<string> names, List<FieldCause> causes)
    {
        for (var i = 0; i < containers.Count; i++)
        {
            var c = containers[i] as JsonObject ?? [];
            var at = $"{path}[{i}]";
            var name = (string?)c["name"];
            if (string.IsNullOrEmpty(name))
            {
                causes.Add(FieldCause.Required($"{at}.name"));
            }
            else if (Names.Dns1123LabelError(name) is { } nameError)
            {
                causes.Add(FieldCause.Invalid($"{at}.name", name, nameError));
            }
            else if (!names.Add(name))
            {
                causes.Add(FieldCause.Duplicate($"{at}.name", name));
            }
            if (string.IsNullOrWhiteSpace((string?)c["image"]))
            {
                causes.Add(FieldCause.Required($"{at}.image"));
            }
            var portNames = new HashSet<string>();
            var ports = c["ports"] as JsonArray ?? [];
            for (var p = 0; p < ports.Count; p++)
            {
                var port = ports[p] as JsonObject ?? [];
                var portAt = $"{at}.ports[{p}]";
                KindValidation.Port(port["containerPort"], $"{portAt}.containerPort", causes);
                KindValidation.Port(port["hostPort"], $"{portAt}.hostPort", causes, required: false);
                KindValidation.Protocol(port["protocol"], $"{portAt}.protocol", causes);
                if ((string?)port["name"] is { } portName)
                {
                    if (Names.PortNameError(portName) is { } portError)
                    {
                        causes.Add(FieldCause.Invalid($"{portAt}.name", portName, portError));
                    }
                    else if (!portNames.Add(portName))
                    {
                        causes.Add(FieldCause.Duplicate($"{portAt}.name", portName));
                    }
                }
            }
            foreach (var (env, e) in (c["env"] as JsonArray ?? []).Select((e, k) => (e, k)))
            {
                if (string.IsNullOrEmpty((string?)env?["name"]))
                {
                    causes.Add(FieldCause.Required($"{at}.env[{e}].name"));
                }
            }
        }
    }

    /// <summary>
    /// Pod spec updates may change only images, activeDeadlineSeconds, tolerations (additions)
    /// and the node assignment made by binding.
    /// </summary>
    public static void Immutable(JsonObject? oldSpec, JsonObject? newSpec, List<FieldCause> causes)
    {
        if (oldSpec is null || newSpec is null)
        {
            return;
        }
        var a = Mutable(oldSpec.DeepClone().AsObject());
        var b = Mutable(newSpec.DeepClone().AsObject());
        if ((string?)oldSpec["nodeName"] is null or "")
        {
            b.Remove("nodeName");
        }
        if (!JsonNode.DeepEquals(a, b))
        {
            causes.Add(FieldCause.Forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
        }
    }

    private static JsonObject Mutable(JsonObject spec)
    {
        spec.Remove("activeDeadlineSeconds");
        spec.Remove("tolerations");
        foreach (var list in new[] { "containers", "initContainers" })
        {
            foreach (var c in (spec[list] as JsonArray ?? []).OfType<JsonObject>())
            {
                c.Remove("image");
            }
        }
        return spec;
    }
}
