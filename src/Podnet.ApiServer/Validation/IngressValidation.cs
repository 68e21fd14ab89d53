using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

/// <summary>networking.k8s.io/v1 Ingress and IngressClass, as upstream's pkg/apis/networking/validation.</summary>
internal static partial class IngressValidation
{
    private const string WildcardHint = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private static readonly string[] InvalidPathSequences = ["//", "/./", "/../", "%2f", "%2F"];
    private static readonly string[] InvalidPathSuffixes = ["/..", "/."];

    public static void Ingress(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        var className = (string?)spec["ingressClassName"];
        if (old is null && (string?)obj["metadata"]?["annotations"]?[DefaultIngressClass.LegacyClassAnnotation] is { } annotation && className is not null && annotation != className)
        {
            causes.Add(FieldCause.Invalid($"annotations.{DefaultIngressClass.LegacyClassAnnotation}", annotation, "must match `ingressClassName` when both are specified"));
        }
        var rules = spec["rules"] as JsonArray ?? [];
        if (rules.Count == 0 && spec["defaultBackend"] is null)
        {
            causes.Add(FieldCause.Invalid("spec", null, "either `defaultBackend` or `rules` must be specified"));
        }
        if (spec["defaultBackend"] is JsonObject defaultBackend)
        {
            Backend(defaultBackend, "spec.defaultBackend", causes);
        }
        for (var i = 0; i < rules.Count; i++)
        {
            Rule(rules[i] as JsonObject ?? [], $"spec.rules[{i}]", causes);
        }
        var tls = spec["tls"] as JsonArray ?? [];
        for (var i = 0; i < tls.Count; i++)
        {
            var hosts = tls[i]?["hosts"] as JsonArray ?? [];
            for (var j = 0; j < hosts.Count; j++)
            {
                Host((string?)hosts[j] ?? "", $"spec.tls[{i}].hosts[{j}]", causes, refuseIp: false);
            }
            if ((string?)tls[i]?["secretName"] is { Length: > 0 } secret && Names.Dns1123SubdomainError(secret) is { } secretError)
            {
                causes.Add(FieldCause.Invalid($"spec.tls[{i}].secretName", secret, secretError));
            }
        }
        if (className is { Length: > 0 } && Names.Dns1123SubdomainError(className) is { } classError)
        {
            causes.Add(FieldCause.Invalid("spec.ingressClassName", className, classError));
        }
        var lbs = obj["status"]?["loadBalancer"]?["ingress"] as JsonArray ?? [];
        for (var i = 0; i < lbs.Count; i++)
        {
            if ((string?)lbs[i]?["ip"] is { Length: > 0 } ip && !IPAddress.TryParse(ip, out _))
            {
                causes.Add(FieldCause.Invalid($"status.loadBalancer.ingress[{i}].ip", ip, "must be a valid IP address"));
            }
        }
    }

    private static void Rule(JsonObject rule, string at, List<FieldCause> causes)
    {
        if ((string?)rule["host"] is { Length: > 0 } host)
        {
            Host(host, $"{at}.host", causes, refuseIp: true);
        }
        if (rule["http"] is not JsonObject http)
        {
            return;
        }
        var paths = http["paths"] as JsonArray ?? [];
        if (paths.Count == 0)
        {
            causes.Add(FieldCause.Required($"{at}.http.paths"));
        }
        for (var i = 0; i < paths.Count; i++)
        {
            Path(paths[i] as JsonObject ?? [], $"{at}.http.paths[{i}]", causes);
        }
    }

    private static void Host(string host, string field, List<FieldCause> causes, bool refuseIp)
    {
        if (refuseIp && IPAddress.TryParse(host, out _))
        {
            causes.Add(FieldCause.Invalid(field, host, "must be a DNS name, not an IP address"));
        }
        if (host.Contains('*'))
        {
            if (!host.StartsWith("*.", StringComparison.Ordinal) || Names.Dns1123SubdomainError(host[2..]) is not null || host.Length > 253)
            {
                causes.Add(FieldCause.Invalid(field, host, host.Length > 253 ? "must be no more than 253 characters" : WildcardHint));
            }
        }
        else if (Names.Dns1123SubdomainError(host) is { } error)
        {
            causes.Add(FieldCause.Invalid(field, host, error));
        }
    }

    private static void Path(JsonObject path, string at, List<FieldCause> causes)
    {
        var pathType = (string?)path["pathType"];
        var value = (string?)path["path"] ?? "";
        switch (pathType)
        {
            case null:
                causes.Add(FieldCause.Required($"{at}.pathType", "pathType must be specified"));
                return;
            case "Exact" or "Prefix":
                if (!value.StartsWith('/'))
                {
                    causes.Add(FieldCause.Invalid($"{at}.path", value, "must be an absolute path"));
                }
                foreach (var sequence in InvalidPathSequences.Where(s => value.Contains(s, StringComparison.Ordinal)))
                {
                    causes.Add(FieldCause.Invalid($"{at}.path", value, $"must not contain '{sequence}'"));
                }
                foreach (var suffix in InvalidPathSuffixes.Where(s => value.EndsWith(s, StringComparison.Ordinal)))
                {
                    causes.Add(FieldCause.Invalid($"{at}.path", value, $"cannot end with '{suffix}'"));
                }
                break;
            case "ImplementationSpecific":
                if (value.Length > 0 && !value.StartsWith('/'))
                {
                    causes.Add(FieldCause.Invalid($"{at}.path", value, "must be an absolute path"));
                }
                break;
            default:
                causes.Add(FieldCause.NotSupported($"{at}.pathType", pathType, ["Exact", "ImplementationSpecific", "Prefix"]));
                break;
        }
        Backend(path["backend"] as JsonObject ?? [], $"{at}.backend", causes);
    }

    private static void Backend(JsonObject backend, string at, List<FieldCause> causes)
    {
        var resource = backend["resource"] as JsonObject;
        var service = backend["service"] as JsonObject;
        if (resource is not null && service is not null)
        {
            causes.Add(FieldCause.Invalid(at, "", "cannot set both resource and service backends"));
            return;
        }
        if (resource is not null)
        {
            TypedReference(resource, $"{at}.resource", causes);
            return;
        }
        if (service is null)
        {
            causes.Add(FieldCause.Invalid(at, "", "resource or service backend is required"));
            return;
        }
        var name = (string?)service["name"] ?? "";
        if (name.Length == 0)
        {
            causes.Add(FieldCause.Required($"{at}.service.name"));
        }
        else if (Names.Dns1035LabelError(name) is { } nameError)
        {
            causes.Add(FieldCause.Invalid($"{at}.service.name", name, nameError));
        }
        var portName = (string?)service["port"]?["name"] ?? "";
        var portNumber = ObjectMeta.Long(service["port"]?["number"]) ?? 0;
        if (portName.Length > 0 && portNumber != 0)
        {
            causes.Add(FieldCause.Invalid(at, "", "cannot set both port name & port number"));
        }
        else if (portName.Length > 0)
        {
            if (Names.PortNameError(portName) is { } portError)
            {
                causes.Add(FieldCause.Invalid($"{at}.service.port.name", portName, portError));
            }
        }
        else if (portNumber != 0)
        {
            KindValidation.Port(service["port"]?["number"], $"{at}.service.port.number", causes);
        }
        else
        {
            causes.Add(FieldCause.Required(at, "port name or number is required"));
        }
    }

    private static void TypedReference(JsonObject reference, string at, List<FieldCause> causes)
    {
        if ((string?)reference["apiGroup"] is { Length: > 0 } group && Names.Dns1123SubdomainError(group) is { } groupError)
        {
            causes.Add(FieldCause.Invalid($"{at}.apiGroup", group, groupError));
        }
        foreach (var field in new[] { "kind", "name" })
        {
            var value = (string?)reference[field] ?? "";
            if (value.Length == 0)
            {
                causes.Add(FieldCause.Required($"{at}.{field}", $"{field} is required"));
            }
            else if (value is "." or ".." || value.Contains('/') || value.Contains('%'))
            {
                causes.Add(FieldCause.Invalid($"{at}.{field}", value, value is "." or ".." ? $"may not be '{value}'" : $"may not contain '{(value.Contains('/') ? "/" : "%")}'"));
            }
        }
    }

    public static void IngressClass(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        var controller = (string?)spec["controller"] ?? "";
        if (controller.Length > 250)
        {
            causes.Add(new FieldCause("FieldValueTooLong", "spec.controller", "Too long: may not be more than 250 bytes"));
        }
        DomainPrefixedPath(controller, "spec.controller", causes);
        if (old is not null && (string?)old["spec"]?["controller"] != controller)
        {
            causes.Add(FieldCause.Invalid("spec.controller", controller, "field is immutable"));
        }
        if (spec["parameters"] is not JsonObject parameters)
        {
            return;
        }
        TypedReference(parameters, "spec.parameters", causes);
        var scope = (string?)parameters["scope"];
        var ns = (string?)parameters["namespace"];
        switch (scope)
        {
            case null:
                causes.Add(FieldCause.Required("spec.parameters.scope"));
                break;
            case "Namespace" when ns is null:
                causes.Add(FieldCause.Required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'"));
                break;
            case "Namespace":
                if (Names.Dns1123LabelError(ns) is { } nsError)
                {
                    causes.Add(FieldCause.Invalid("spec.parameters.namespace", ns, nsError));
                }
                break;
            case "Cluster" when ns is not null:
                causes.Add(FieldCause.Forbidden("spec.parameters.namespace", "`parameters.scope` is set to 'Cluster'"));
                break;
            case "Cluster":
                break;
            default:
                causes.Add(FieldCause.NotSupported("spec.parameters.scope", scope, ["Cluster", "Namespace"]));
                break;
        }
    }

    /// <summary>apimachinery's IsDomainPrefixedPath: "example.com/path".</summary>
    private static void DomainPrefixedPath(string value, string field, List<FieldCause> causes)
    {
        if (value.Length == 0)
        {
            causes.Add(FieldCause.Required(field));
            return;
        }
        var slash = value.IndexOf('/');
        if (slash <= 0 || slash == value.Length - 1)
        {
            causes.Add(FieldCause.Invalid(field, value, "must be a domain-prefixed path (such as \"acme.io/foo\")"));
            return;
        }
        var host = value[..slash];
        if (Names.Dns1123SubdomainError(host) is { } hostError)
        {
            causes.Add(FieldCause.Invalid(field, host, hostError));
        }
        var path = value[(slash + 1)..];
        if (!HttpPath().IsMatch(path))
        {
            causes.Add(FieldCause.Invalid(field, path, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"));
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$")]
    private static partial Regex HttpPath();
}
