using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Schemas;

/// <summary>
/// Generates src/Podnet.ApiServer/Http/kinds.schemas.json, the schemas the server serves at
/// /openapi/v3 and checks bodies against (fieldValidation), from KubernetesClient's models: the
/// server itself reads no model at run time (it is NativeAOT), so this is where the schemas
/// stay KubernetesClient's.
/// </summary>
/// <remarks>
/// One schema per line, so that a diff of the file names the schemas that changed. A type can
/// be in the file under two names (core's ObjectReference is also discovery's), as upstream
/// names it in each group-version's document; a name means the same schema wherever it comes
/// from, which <see cref="Generate"/> checks.
/// </remarks>
internal static class KindSchemasFile
{
    /// <summary>The key of the scale subresource's schema (V1Scale), beside the resource keys.</summary>
    public const string Scale = "scale";

    /// <summary>The key of the pods/eviction subresource's schema (V1Eviction).</summary>
    public const string Eviction = "eviction";

    public const string WriteVariable = "PODNET_WRITE_SCHEMAS";

    /// <summary>KubernetesClient's model of each served kind, by resource key.</summary>
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
        ["networking.k8s.io/ingresses"] = typeof(V1Ingress),
        ["networking.k8s.io/ingressclasses"] = typeof(V1IngressClass),
        ["networking.k8s.io/servicecidrs"] = typeof(V1ServiceCIDR),
        ["networking.k8s.io/ipaddresses"] = typeof(V1IPAddress),
        ["apps/deployments"] = typeof(V1Deployment),
        ["apps/replicasets"] = typeof(V1ReplicaSet),
        ["apps/daemonsets"] = typeof(V1DaemonSet),
        ["coordination.k8s.io/leases"] = typeof(V1Lease),
        ["rbac.authorization.k8s.io/roles"] = typeof(V1Role),
        ["rbac.authorization.k8s.io/clusterroles"] = typeof(V1ClusterRole),
        ["rbac.authorization.k8s.io/rolebindings"] = typeof(V1RoleBinding),
        ["rbac.authorization.k8s.io/clusterrolebindings"] = typeof(V1ClusterRoleBinding),
        ["apps/statefulsets"] = typeof(V1StatefulSet),
        ["apps/controllerrevisions"] = typeof(V1ControllerRevision),
        ["policy/poddisruptionbudgets"] = typeof(V1PodDisruptionBudget),
        ["apiextensions.k8s.io/customresourcedefinitions"] = typeof(V1CustomResourceDefinition),
        [Scale] = typeof(V1Scale),
        [Eviction] = typeof(V1Eviction),
    };

    /// <summary>KubernetesClient's model of a resource key's kind (or of Scale).</summary>
    public static Type ModelOf(string key) => Models[key];

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The checked-in file, found from the test's output directory up to the repository.</summary>
    public static string SourcePath
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var path = Path.Combine(dir.FullName, "src", "Podnet.ApiServer", "Http", "kinds.schemas.json");
                if (File.Exists(Path.Combine(dir.FullName, "Podnet.slnx")))
                {
                    return path;
                }
            }
            throw new DirectoryNotFoundException($"no Podnet.slnx above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The file's text: {"kinds": {key: schema name}, "schemas": {name: schema}}.</summary>
    public static string Generate()
    {
        var kinds = new List<(string Key, string Name)>();
        var schemas = new Dictionary<string, JsonNode>();
        var order = new List<string>();
        foreach (var (key, model) in Models)
        {
            var name = key switch
            {
                Scale => "io.k8s.api.autoscaling.v1.Scale",
                Eviction => "io.k8s.api.policy.v1.Eviction",
                _ => OpenApi.SchemaName(ResourceCatalog.Get(key)),
            };
            var components = new JsonObject();
            new SchemaWriter(components, name[..name.LastIndexOf('.')]).Add(model, name);
            kinds.Add((key, name));
            foreach (var (n, schema) in components)
            {
                if (schemas.TryGetValue(n, out var seen))
                {
                    if (!JsonNode.DeepEquals(seen, schema))
                    {
                        throw new InvalidOperationException($"{n} differs between kinds (the second time from {key})");
                    }
                    continue;
                }
                schemas[n] = schema!.DeepClone();
                order.Add(n);
            }
        }
        var text = new StringBuilder("{\"kinds\":{");
        text.AppendJoin(',', kinds.Select(k => $"{Quoted(k.Key)}:{Quoted(k.Name)}"));
        text.Append("},\n\"schemas\":{\n");
        text.AppendJoin(",\n", order.Select(n => $"{Quoted(n)}:{schemas[n].ToJsonString(Compact)}"));
        text.Append("\n}}\n");
        return text.ToString();
    }

    private static string Quoted(string s) => JsonValue.Create(s).ToJsonString(Compact);
}
