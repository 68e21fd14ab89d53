using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

internal static class ServiceValidation
{
    private static readonly string[] Types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

    public static void Validate(JsonObject svc, JsonObject? old, List<FieldCause> causes)
    {
        var spec = svc["spec"] as JsonObject ?? [];
        var type = (string?)spec["type"] ?? "ClusterIP";
        if (!Types.Contains(type))
        {
            causes.Add(FieldCause.NotSupported("spec.type", type, Types));
            return;
        }
        var clusterIP = (string?)spec["clusterIP"];
        if (type == "ExternalName")
        {
            var externalName = (string?)spec["externalName"];
            if (string.IsNullOrEmpty(externalName))
            {
                causes.Add(FieldCause.Required("spec.externalName"));
            }
            else if (Names.Dns1123SubdomainError(externalName.TrimEnd('.')) is { } error)
            {
                causes.Add(FieldCause.Invalid("spec.externalName", externalName, error));
            }
            if (clusterIP is { Length: > 0 } && old is null)
            {
                causes.Add(FieldCause.Forbidden("spec.clusterIP", "may not be set for ExternalName services"));
            }
        }
        else if (clusterIP is { Length: > 0 } and not "None" && !System.Net.IPAddress.TryParse(clusterIP, out _))
        {
            causes.Add(FieldCause.Invalid("spec.clusterIPs[0]", clusterIP, "must be empty, 'None', or a valid IP address"));
        }
        if (clusterIP == "None" && type is "NodePort" or "LoadBalancer")
        {
            causes.Add(FieldCause.Invalid("spec.clusterIPs[0]", "None", $"may not be set to 'None' for {type} services"));
        }
        var ports = spec["ports"] as JsonArray ?? [];
        if (ports.Count == 0 && type != "ExternalName" && clusterIP != "None")
        {
            causes.Add(FieldCause.Required("spec.ports"));
        }
        var names = new HashSet<string>();
        var keys = new HashSet<string>();
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ports[i] as JsonObject ?? [];
            var at = $"spec.ports[{i}]";
            var name = (string?)port["name"];
            if (ports.Count > 1 && string.IsNullOrEmpty(name))
            {
                causes.Add(FieldCause.Required($"{at}.name"));
            }
            else if (!string.IsNullOrEmpty(name))
            {
                if (Names.Dns1123LabelError(name) is { } nameError)
                {
                    causes.Add(FieldCause.Invalid($"{at}.name", name, nameError));
                }
                else if (!names.Add(name))
                {
                    causes.Add(FieldCause.Duplicate($"{at}.name", name));
                }
            }
            KindValidation.Port(port["port"], $"{at}.port", causes);
            KindValidation.Protocol(port["protocol"], $"{at}.protocol", causes);
            if (!keys.Add($"{port["port"]}/{port["protocol"]}"))
            {
                causes.Add(FieldCause.Duplicate(at, new JsonObject { ["port"] = port["port"]?.DeepClone(), ["protocol"] = port["protocol"]?.DeepClone() }));
            }
            TargetPort(port["targetPort"], $"{at}.targetPort", causes);
        }
        KindValidation.Labels(spec["selector"] as JsonObject, "spec.selector", causes);
        var affinity = (string?)spec["sessionAffinity"];
        if (affinity is not (null or "None" or "ClientIP"))
        {
            causes.Add(FieldCause.NotSupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]));
        }
        foreach (var field in new[] { "externalTrafficPolicy", "internalTrafficPolicy" })
        {
            var policy = (string?)spec[field];
            if (policy is not (null or "Cluster" or "Local"))
            {
                causes.Add(FieldCause.NotSupported($"spec.{field}", policy, ["Cluster", "Local"]));
            }
        }
    }

    private static void TargetPort(JsonNode? value, string field, List<FieldCause> causes)
    {
        if (value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var name = (string)v!;
            if (Names.PortNameError(name) is { } error)
            {
                causes.Add(FieldCause.Invalid(field, name, error));
            }
            return;
        }
        KindValidation.Port(value, field, causes, required: false);
    }
}
