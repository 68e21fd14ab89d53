using System.Buffers;
using System.Security.Cryptography;
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

    public static async Task<bool> ServeAsync(HttpContext context, string path, CustomResources resources)
    {
        var key = path["/openapi/".Length..];
        var custom = CustomDocuments(resources);
        if (key == "v3")
        {
            var index = new JsonObject();
            foreach (var (gv, bytes) in Documents.Value.Concat(custom))
            {
                index[gv] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{gv}?hash={Hash(bytes)}" };
            }
            await Bodies.WriteAsync(context.Response, 200, new JsonObject { ["paths"] = index }).ConfigureAwait(false);
            return true;
        }
        if (key.StartsWith("v3/", StringComparison.Ordinal) && (Documents.Value.TryGetValue(key[3..], out var document) || custom.TryGetValue(key[3..], out document)))
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
        foreach (var gv in ResourceCatalog.Resources.GroupBy(GroupVersionPath))
        {
            documents[gv.Key] = Document(gv.Key, gv, file.RootElement);
        }
        return documents;
    }

    private static string GroupVersionPath(ResourceInfo r) => r.Group.Length == 0 ? "api/v1" : $"apis/{r.Group}/{r.Version}";

    /// <summary>
    /// The documents of the custom resources' group-versions, made from their CRDs' schemas at
    /// each request (they change with the CRDs; a group-version a built-in group also has is
    /// left to the built-in document).
    /// </summary>
    private static Dictionary<string, byte[]> CustomDocuments(CustomResources resources)
    {
        var documents = new Dictionary<string, byte[]>();
        var custom = resources.Current.SelectMany(c => c.Versions).GroupBy(GroupVersionPath).Where(g => !Documents.Value.ContainsKey(g.Key)).ToList();
        if (custom.Count == 0)
        {
            return documents;
        }
        using var file = KindSchemas.Open();
        foreach (var gv in custom)
        {
            documents[gv.Key] = Document(gv.Key, gv, file.RootElement);
        }
        return documents;
    }

    private static byte[] Document(string key, IEnumerable<ResourceInfo> resources, JsonElement file)
    {
        var paths = new JsonObject();
        var schemas = new Components(file);
        foreach (var r in resources)
        {
            var prefix = "/" + key + (r.Namespaced ? "/namespaces/{namespace}" : "");
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
            if (r.Custom is { } custom)
            {
                schemas.AddCustom(r, custom.RawSchemas[r.Version]);
            }
            else
            {
                schemas.AddKind(r);
            }
        }
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("openapi", "3.0.0");
            writer.WriteStartObject("info");
            writer.WriteString("title", "Kubernetes");
            writer.WriteString("version", "v1.32.4");
            writer.WriteEndObject();
            writer.WritePropertyName("paths");
            paths.WriteTo(writer);
            writer.WriteStartObject("components");
            writer.WritePropertyName("schemas");
            schemas.WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
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
        if (r.Custom is not null)
        {
            // Upstream's name for a CRD's kind: the group reversed, then version and kind (com.example.v1.Widget).
            return $"{string.Join('.', r.Group.Split('.').Reverse())}.{r.Version}.{r.Kind}";
        }
        if (r.Group == "apiextensions.k8s.io")
        {
            return $"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{r.Version}.{r.Kind}";
        }
        var package = r.Group.Length == 0 ? "core" : r.Group.Split('.')[0];
        return $"io.k8s.api.{package}.{r.Version}.{r.Kind}";
    }

    /// <summary>
    /// The component schemas of one group-version: each kind's, then those it refers to, depth
    /// first in the order they come (the order they were made in from the models, and so the
    /// same document, byte for byte, as then), written straight from the file's JsonDocument.
    /// </summary>
    internal sealed class Components(JsonElement file)
    {
        private readonly JsonElement _kinds = file.GetProperty("kinds");
        private readonly JsonElement _all = file.GetProperty("schemas");
        private readonly List<string> _order = [];
        private readonly Dictionary<string, JsonObject?> _added = [];
        private readonly Dictionary<string, ResourceInfo> _roots = [];

        /// <summary>The kind's schema and those it refers to, from the file; the top level only for a kind the file lacks.</summary>
        public void AddKind(ResourceInfo r)
        {
            var name = SchemaName(r);
            if (_kinds.TryGetProperty(r.Key, out _))
            {
                AddWithReferred(name);
            }
            else
            {
                if (!_added.ContainsKey(name))
                {
                    _order.Add(name);
                }
                _added[name] = Shallow(r);
            }
            _roots[name] = r;
        }

        /// <summary>A custom resource's schema from its CRD, with apiVersion, kind and metadata (ObjectMeta) as upstream's builder adds them.</summary>
        public void AddCustom(ResourceInfo r, JsonObject schema)
        {
            var name = SchemaName(r);
            var full = schema.DeepClone().AsObject();
            var properties = full["properties"] as JsonObject ?? [];
            full["properties"] = properties;
            properties["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = "APIVersion defines the versioned schema of this representation of an object." };
            properties["kind"] = new JsonObject { ["type"] = "string", ["description"] = "Kind is a string value representing the REST resource this object represents." };
            properties["metadata"] = new JsonObject { ["$ref"] = RefPrefix + ObjectMeta, ["description"] = "Standard object's metadata." };
            if (!_added.ContainsKey(name))
            {
                _order.Add(name);
            }
            _added[name] = full;
            _roots[name] = r;
            AddWithReferred(ObjectMeta);
        }

        private const string ObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

        private const string RefPrefix = "#/components/schemas/";

        public void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            foreach (var name in _order)
            {
                writer.WritePropertyName(name);
                var root = _roots.GetValueOrDefault(name);
                if (_added[name] is { } shallow)
                {
                    shallow["x-kubernetes-group-version-kind"] = GroupVersionKind(root!);
                    shallow.WriteTo(writer);
                }
                else if (root is null)
                {
                    _all.GetProperty(name).WriteTo(writer);
                }
                else
                {
                    writer.WriteStartObject();
                    foreach (var p in _all.GetProperty(name).EnumerateObject())
                    {
                        p.WriteTo(writer);
                    }
                    writer.WritePropertyName("x-kubernetes-group-version-kind");
                    GroupVersionKind(root).WriteTo(writer);
                    writer.WriteEndObject();
                }
            }
            writer.WriteEndObject();
        }

        private static JsonArray GroupVersionKind(ResourceInfo r) => new(new JsonObject { ["group"] = r.Group, ["version"] = r.Version, ["kind"] = r.Kind });

        private void AddWithReferred(string name)
        {
            if (_added.TryAdd(name, null))
            {
                _order.Add(name);
                foreach (var referred in Referred(_all.GetProperty(name)))
                {
                    AddWithReferred(referred);
                }
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
        "networking.k8s.io/networkpolicies" or "networking.k8s.io/ingressclasses" or "networking.k8s.io/ipaddresses" => ["spec"],
        _ => ["spec", "status"],
    };
}
