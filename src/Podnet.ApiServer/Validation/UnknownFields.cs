using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// Server-side field validation (the <c>fieldValidation</c> query parameter kubectl sends): the
/// fields of a body that its kind does not have, found by walking the body along the kind's
/// schema (<see cref="KindSchemas"/>, KubernetesClient's models), and taken out of it.
/// </summary>
/// <remarks>
/// kube-apiserver decodes a body into the kind's Go type, which keeps only the fields the type
/// has: it reports every other one (Strict: one error naming them all; Warn: a warning each)
/// and stores the object without them. So the walk reports all of them, in the body's order,
/// and removes them from the body, whatever the mode. In a merge or strategic merge patch the
/// <c>$</c> directives are not fields, and a field the kind lacks set to null asks only to
/// delete it, which leaves nothing to decode.
/// </remarks>
internal static class UnknownFields
{
    /// <summary>
    /// Removes from <paramref name="body"/> (an object, or a merge/strategic/apply patch when
    /// <paramref name="patch"/>) every field its kind does not have, and returns their paths
    /// ("spec.replica", "spec.template.spec.containers[0].imagePullPolicyy") in document order.
    /// </summary>
    public static List<string> Prune(ResourceInfo r, string? subresource, JsonNode body, bool patch) =>
        r.Custom is { } custom && subresource != "scale" ? Prune(custom.ShapeOf(r.Version), body, patch) :
        KindSchemas.ShapeOf(subresource switch { "scale" => KindSchemas.Scale, "eviction" => KindSchemas.Eviction, _ => r.Key }) is { } shape ? Prune(shape, body, patch) : [];

    /// <summary>The same along any shape.</summary>
    public static List<string> Prune(Shape shape, JsonNode body, bool patch)
    {
        var found = new List<string>();
        Walk(shape, body, "", found, patch);
        return found;
    }

    private static void Walk(Shape shape, JsonNode? node, string path, List<string> found, bool patch)
    {
        if (shape.Properties is { } fields && node is JsonObject o)
        {
            List<string>? unknown = null;
            foreach (var (key, value) in o)
            {
                if (key.StartsWith('$'))
                {
                    continue;
                }
                if (fields.TryGetValue(key, out var field))
                {
                    Walk(field, value, Join(path, key), found, patch);
                }
                else if (!(patch && value is null))
                {
                    found.Add(Join(path, key));
                    (unknown ??= []).Add(key);
                }
            }
            foreach (var key in unknown ?? [])
            {
                o.Remove(key);
            }
        }
        else if (shape.Values is { } values && node is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                if (!key.StartsWith('$'))
                {
                    Walk(values, value, Join(path, key), found, patch);
                }
            }
        }
        else if (shape.Items is { } items && node is JsonArray list)
        {
            var index = 0;
            foreach (var item in list)
            {
                // {"$patch": "delete"} and the like stand for an item, they are not one.
                if (item is JsonObject { Count: 1 } directive && directive.ContainsKey("$patch"))
                {
                    continue;
                }
                Walk(items, item, $"{path}[{index++}]", found, patch);
            }
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
