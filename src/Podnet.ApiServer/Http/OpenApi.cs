using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Http;

/// <summary>
/// /openapi/v3: the index of group-versions and one document for each, with a path per
/// resource and verb and a schema per kind.
/// </summary>
/// <remarks>
/// What kubectl reads here, and so what must be right: each PATCH operation carries
/// x-kubernetes-group-version-kind and the <c>fieldValidation</c> query parameter, which tells
/// kubectl that the server validates (so it sends its objects without a client-side schema
/// check). The PATCH request bodies list merge-patch and json-patch only: kubectl then builds
/// its strategic merge patches from its own compiled-in types, which know every merge key,
/// instead of from these schemas, which carry no patch merge keys. The schemas themselves are
/// deep, for <c>kubectl explain</c>: each kind's and every one it refers to, from
/// <see cref="KindSchemas"/> (KubernetesClient's models, with upstream's descriptions).
/// </remarks>
internal static class OpenApi
{
    private static readonly Lazy<Dictionary<string, byte[]>> Documents = new(Build);

    public static async Task<bool> ServeAsync(HttpContext context, string path)
    {
        var key = path["/openapi/".Length..];
        if (key == "v3")
        {
            var index = new JsonObject();
            foreach (var (gv, bytes) in Documents.Value)
            {
                index[gv] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{gv}?hash={Hash(bytes)}" };
            }
            await Bodies.WriteAsync(context.Response, 200, new JsonObject { ["paths"] = index }).ConfigureAwait(false);
            return true;
        }
        if (key.StartsWith("v3/", StringComparison.Ordinal) && Documents.Value.TryGetValue(key[3..], out var document))
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(document).ConfigureAwait(false);
            return true;
        }
        return false;
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes))[..32];

    private static Dictionary<string, byte[]> Build()
    {
        var documents = new Dictionary<string, byte[]>();
        using var file = KindSchemas.Open();
        foreach (var gv in ResourceCatalog.Resources.GroupBy(r => r.Group.Length == 0 ? "api/v1" : $"apis/{r.Group}/{r.Version}"))
        {
            var paths = new JsonObject();
            var schemas = new JsonObject();
            foreach (var r in gv)
            {
                var prefix = "/" + gv.Key + (r.Namespaced ? "/namespaces/{namespace}" : "");
                paths[$"{prefix}/{r.Plural}"] = new JsonObject
                {
                    ["get"] = Operation(r, "list", []),
                    ["post"] = Operation(r, "create", ["fieldValidation", "dryRun"]),
                    ["delete"] = Operation(r, "deletecollection", ["labelSelector", "fieldSelector"]),
                };
                var item = new JsonObject
                {
                    ["get"] = Operation(r, "get", []),
                    ["put"] = Operation(r, "update", ["fieldValidation", "dryRun"]),
                    ["patch"] = Operation(r, "patch", ["fieldValidation", "dryRun"]),
                    ["delete"] = Operation(r, "delete", ["gracePeriodSeconds", "propagationPolicy"]),
                };
                item["patch"]!["requestBody"] = new JsonObject
                {
                    ["content"] = new JsonObject { ["application/merge-patch+json"] = Ref(r), ["application/json-patch+json"] = Ref(r) },
                };
                paths[$"{prefix}/{r.Plural}/{{name}}"] = item;
                AddSchema(schemas, r, file.RootElement);
            }
            var document = new JsonObject
            {
                ["openapi"] = "3.0.0",
                ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.4" },
                ["paths"] = paths,
                ["components"] = new JsonObject { ["schemas"] = schemas },
            };
            documents[gv.Key] = Encoding.UTF8.GetBytes(document.ToJsonString());
        }
        return documents;
    }

    private static JsonObject Operation(ResourceInfo r, string verb, string[] queryParameters) => new()
    {
        ["operationId"] = $"{verb}{r.Kind}",
        ["x-kubernetes-action"] = verb,
        ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = r.Group, ["version"] = r.Version, ["kind"] = r.Kind },
        ["parameters"] = new JsonArray(queryParameters.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p,
            ["in"] = "query",
            ["schema"] = new JsonObject { ["type"] = p == "gracePeriodSeconds" ? "integer" : "string" },
        }).ToArray()),
        ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK", ["content"] = new JsonObject { ["application/json"] = Ref(r) } } },
    };

    private static JsonObject Ref(ResourceInfo r) => new() { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{SchemaName(r)}" } };

    /// <summary>Upstream's component name of a kind's schema: io.k8s.api.apps.v1.Deployment.</summary>
    internal static string SchemaName(ResourceInfo r)
    {
        var package = r.Group.Length == 0 ? "core" : r.Group.Split('.')[0];
        return $"io.k8s.api.{package}.{r.Version}.{r.Kind}";
    }

    /// <summary>The kind's schema and those it refers to, from the file; the top level only for a kind the file lacks.</summary>
    private static void AddSchema(JsonObject schemas, ResourceInfo r, JsonElement file)
    {
        var name = SchemaName(r);
        if (file.GetProperty("kinds").TryGetProperty(r.Key, out _))
        {
            AddWithReferred(schemas, name, file.GetProperty("schemas"));
        }
        else
        {
            schemas[name] = Shallow(r);
        }
        schemas[name]!["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = r.Group, ["version"] = r.Version, ["kind"] = r.Kind });
    }

    /// <summary>A schema, then each one it refers to in the order they come in it (depth first).</summary>
    private static void AddWithReferred(JsonObject schemas, string name, JsonElement all)
    {
        if (schemas.ContainsKey(name))
        {
            return;
        }
        var schema = all.GetProperty(name);
        schemas[name] = JsonNode.Parse(schema.GetRawText());
        foreach (var referred in Referred(schema))
        {
            AddWithReferred(schemas, referred, all);
        }
    }

    private static IEnumerable<string> Referred(JsonElement schema)
    {
        if (schema.ValueKind == JsonValueKind.Object)
        {
            if (KindSchemas.RefOf(schema) is { } name)
            {
                yield return name;
            }
            foreach (var p in schema.EnumerateObject())
            {
                foreach (var r in Referred(p.Value))
                {
                    yield return r;
                }
            }
        }
        else if (schema.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in schema.EnumerateArray())
            {
                foreach (var r in Referred(item))
                {
                    yield return r;
                }
            }
        }
    }

    private static JsonObject Shallow(ResourceInfo r)
    {
        static JsonObject Open(string description) => new() { ["type"] = "object", ["description"] = description, ["x-kubernetes-preserve-unknown-fields"] = true };
        var properties = new JsonObject
        {
            ["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = "APIVersion defines the versioned schema of this representation of an object." },
            ["kind"] = new JsonObject { ["type"] = "string", ["description"] = "Kind is a string value representing the REST resource this object represents." },
            ["metadata"] = Open("Standard object's metadata."),
        };
        foreach (var field in TopLevelFields(r))
        {
            properties[field] = Open($"{field} of the {r.Kind}.");
        }
        return new JsonObject
        {
            ["type"] = "object",
            ["description"] = $"{r.Kind} ({r.ApiVersion}).",
            ["properties"] = properties,
        };
    }

    private static string[] TopLevelFields(ResourceInfo r) => r.Key switch
    {
        "configmaps" => ["data", "binaryData", "immutable"],
        "secrets" => ["data", "stringData", "type", "immutable"],
        "serviceaccounts" => ["secrets", "imagePullSecrets", "automountServiceAccountToken"],
        "endpoints" => ["subsets"],
        "events" => ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance"],
        "discovery.k8s.io/endpointslices" => ["addressType", "endpoints", "ports"],
        "rbac.authorization.k8s.io/roles" or "rbac.authorization.k8s.io/clusterroles" => ["rules", "aggregationRule"],
        "rbac.authorization.k8s.io/rolebindings" or "rbac.authorization.k8s.io/clusterrolebindings" => ["subjects", "roleRef"],
        "networking.k8s.io/networkpolicies" => ["spec"],
        _ => ["spec", "status"],
    };
}
