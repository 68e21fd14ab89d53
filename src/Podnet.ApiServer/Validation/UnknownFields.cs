using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// Server-side field validation (the <c>fieldValidation</c> query parameter kubectl sends):
/// a field that the kind does not have is found by reading the object into KubernetesClient's
/// model of that kind with unmapped members disallowed, so the schema is the library's, kept
/// in step with upstream, not one of our own.
/// </summary>
internal static class UnknownFields
{
    private static readonly JsonSerializerOptions Strict = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    private static readonly Dictionary<string, Type> Models = new()
    {
        ["namespaces"] = typeof(V1Namespace),
        ["nodes"] = typeof(V1Node),
        ["pods"] = typeof(V1Pod),
        ["services"] = typeof(V1Service),
        ["endpoints"] = typeof(V1Endpoints),
        ["configmaps"] = typeof(V1ConfigMap),
        ["secrets"] = typeof(V1Secret),
        ["serviceaccounts"] = typeof(V1ServiceAccount),
        ["events"] = typeof(Corev1Event),
        ["discovery.k8s.io/endpointslices"] = typeof(V1EndpointSlice),
        ["networking.k8s.io/networkpolicies"] = typeof(V1NetworkPolicy),
        ["apps/deployments"] = typeof(V1Deployment),
        ["apps/replicasets"] = typeof(V1ReplicaSet),
        ["coordination.k8s.io/leases"] = typeof(V1Lease),
        ["rbac.authorization.k8s.io/roles"] = typeof(V1Role),
        ["rbac.authorization.k8s.io/clusterroles"] = typeof(V1ClusterRole),
        ["rbac.authorization.k8s.io/rolebindings"] = typeof(V1RoleBinding),
        ["rbac.authorization.k8s.io/clusterrolebindings"] = typeof(V1ClusterRoleBinding),
    };

    /// <summary>KubernetesClient's model of a resource's kind (the schema /openapi/v3 serves), or null.</summary>
    public static Type? ModelOf(ResourceInfo r) => Models.GetValueOrDefault(r.Key);

    /// <summary>
    /// The first field of <paramref name="body"/> (an object, or a merge/strategic patch, whose
    /// <c>$</c> directives are set aside) that the kind does not have, as "spec.replica"; null if none.
    /// </summary>
    public static string? Find(ResourceInfo r, string? subresource, JsonNode body)
    {
        var model = subresource == "scale" ? typeof(V1Scale) : Models.GetValueOrDefault(r.Key);
        if (model is null || body is not JsonObject)
        {
            return null;
        }
        try
        {
            JsonSerializer.Deserialize(WithoutDirectives(body)!.ToJsonString(), model, Strict);
            return null;
        }
        catch (JsonException e) when (e.Message.Contains("could not be mapped", StringComparison.Ordinal) && e.Path is { } path)
        {
            return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
        }
        catch (JsonException)
        {
            // A value of the wrong type is for validation to name; this check is about names.
            return null;
        }
    }

    private static JsonNode? WithoutDirectives(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Where(p => !p.Key.StartsWith('$')).Select(p => KeyValuePair.Create(p.Key, WithoutDirectives(p.Value)))),
        JsonArray a => new JsonArray(a.Where(i => !(i is JsonObject io && io.Count == 1 && io.ContainsKey("$patch"))).Select(WithoutDirectives).ToArray()),
        _ => node?.DeepClone(),
    };
}
