using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Xml.Linq;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Schemas;

/// <summary>
/// OpenAPI v3 component schemas for a kind and every type under it, made from KubernetesClient's
/// model of the kind, with the descriptions of its XML documentation (copied beside the library
/// into this project's output). <see cref="KindSchemasFile"/> writes them into the file the
/// server serves and validates with.
/// </summary>
/// <remarks>
/// Deep schemas are what <c>kubectl explain deployment.spec.template.spec.containers</c>
/// walks. Names follow upstream's (io.k8s.api.core.v1.Container, …) as far as the model's name
/// tells them: the meta types; in apps the Deployment, ReplicaSet and DaemonSet types, the rest core; in
/// the other groups the group's.
/// </remarks>
internal sealed class SchemaWriter(JsonObject components, string package)
{
    private static readonly Lazy<Dictionary<string, string>> Docs = new(LoadDocs);

    private static readonly HashSet<string> MetaTypes = ["ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement", "OwnerReference", "ManagedFieldsEntry", "Condition"];

    /// <summary>Adds the schema of <paramref name="model"/> and of the types it uses; returns its name.</summary>
    public string Add(Type model, string name)
    {
        if (components.ContainsKey(name))
        {
            return name;
        }
        var properties = new JsonObject();
        var schema = new JsonObject
        {
            ["description"] = Doc($"T:{model.FullName}"),
            ["type"] = "object",
            ["properties"] = properties,
        };
        components[name] = schema;
        foreach (var property in model.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<JsonPropertyNameAttribute>() is not { } json)
            {
                continue;
            }
            var field = Of(property.PropertyType);
            if (Doc($"P:{model.FullName}.{property.Name}") is { Length: > 0 } text)
            {
                field = field.ContainsKey("$ref") ? new JsonObject { ["allOf"] = new JsonArray(field), ["description"] = text } : field;
                field["description"] ??= text;
            }
            properties[json.Name] = field;
        }
        return name;
    }

    private JsonObject Of(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return new JsonObject { ["type"] = "string" };
        }
        if (type == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }
        if (type == typeof(int) || type == typeof(long))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = type == typeof(int) ? "int32" : "int64" };
        }
        if (type == typeof(double) || type == typeof(float))
        {
            return new JsonObject { ["type"] = "number", ["format"] = "double" };
        }
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        }
        if (type == typeof(byte[]))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "byte" };
        }
        if (type == typeof(IntOrString))
        {
            return Ref(Named("io.k8s.apimachinery.pkg.util.intstr.IntOrString", new JsonObject { ["type"] = "string", ["format"] = "int-or-string", ["x-kubernetes-int-or-string"] = true }));
        }
        if (type == typeof(ResourceQuantity))
        {
            return Ref(Named("io.k8s.apimachinery.pkg.api.resource.Quantity", new JsonObject { ["type"] = "string" }));
        }
        if (type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>)) is { } map)
        {
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = Of(map.GetGenericArguments()[1]) };
        }
        if (type.IsGenericType && type.GetGenericArguments() is [var item] && typeof(IEnumerable).IsAssignableFrom(type))
        {
            return new JsonObject { ["type"] = "array", ["items"] = Of(item) };
        }
        if (type.Namespace == "k8s.Models" && type.IsClass)
        {
            return Ref(Add(type, NameOf(type)));
        }
        return new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
    }

    private string Named(string name, JsonObject schema)
    {
        components[name] ??= schema;
        return name;
    }

    private static JsonObject Ref(string name) => new() { ["$ref"] = $"#/components/schemas/{name}" };

    /// <summary>Upstream's schema name for a model: V1ObjectMeta → io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, V1Container → io.k8s.api.core.v1.Container.</summary>
    private string NameOf(Type type)
    {
        var name = System.Text.RegularExpressions.Regex.Replace(type.Name, "^([A-Z][a-z]+)?[Vv]1", "");
        if (MetaTypes.Contains(name))
        {
            return $"io.k8s.apimachinery.pkg.apis.meta.v1.{name}";
        }
        var own = package switch
        {
            "io.k8s.api.core.v1" => false,
            "io.k8s.api.apps.v1" => name.Contains("Deployment", StringComparison.Ordinal) || name.Contains("ReplicaSet", StringComparison.Ordinal) || name.Contains("DaemonSet", StringComparison.Ordinal)
                || name.Contains("StatefulSet", StringComparison.Ordinal) || name.Contains("ControllerRevision", StringComparison.Ordinal),
            _ => true,
        };
        return own ? $"{package}.{name}" : $"io.k8s.api.core.v1.{name}";
    }

    private static string Doc(string member) => Docs.Value.GetValueOrDefault(member, "");

    /// <summary>KubernetesClient.xml beside the library; without it the descriptions would silently go.</summary>
    public static string DocsPath => Path.ChangeExtension(typeof(V1Pod).Assembly.Location, ".xml");

    private static Dictionary<string, string> LoadDocs()
    {
        var path = DocsPath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: the schemas' descriptions come from it (CopyDocumentationFilesFromPackages)", path);
        }
        return XDocument.Load(path).Descendants("member")
            .Where(m => ((string?)m.Attribute("name"))?.StartsWith("T:k8s.Models.", StringComparison.Ordinal) == true || ((string?)m.Attribute("name"))?.StartsWith("P:k8s.Models.", StringComparison.Ordinal) == true)
            .GroupBy(m => (string)m.Attribute("name")!)
            .ToDictionary(g => g.Key, g => string.Join(" ", ((string?)g.First().Element("summary") ?? "").Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries)));
    }
}
