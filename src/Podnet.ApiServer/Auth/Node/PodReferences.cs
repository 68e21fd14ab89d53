using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Auth.Node;

/// <summary>
/// The objects of its namespace a pod refers to, as the edges upstream's node authorizer graph
/// draws from a pod (plugin/pkg/auth/authorizer/node/graph_populator.go): Secrets and ConfigMaps
/// of volumes (also projected), env valueFrom and envFrom of every container kind, image pull
/// Secrets, PersistentVolumeClaims of volumes, and its ServiceAccount. A pod that mounts its
/// account's token also refers to the kube-root-ca.crt ConfigMap, as the projected volume
/// upstream's ServiceAccount admission adds does.
/// </summary>
internal static class PodReferences
{
    public static bool RefersTo(JsonObject pod, string resource, string name) => resource switch
    {
        "secrets" => Secrets(pod).Contains(name),
        "configmaps" => ConfigMaps(pod).Contains(name),
        "persistentvolumeclaims" => Volumes(pod).Any(v => (string?)v["persistentVolumeClaim"]?["claimName"] == name),
        "serviceaccounts" => ServiceAccount(pod) == name,
        _ => false,
    };

    public static string ServiceAccount(JsonObject pod) =>
        (string?)pod["spec"]?["serviceAccountName"] is { Length: > 0 } account ? account : "default";

    private static HashSet<string> Secrets(JsonObject pod)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var volume in Volumes(pod))
        {
            Add(names, volume["secret"]?["secretName"]);
            foreach (var source in Array(volume["projected"]?["sources"]))
            {
                Add(names, source["secret"]?["name"]);
            }
            // Volume plugins that name a Secret for their credentials.
            foreach (var plugin in volume.Select(p => p.Value).OfType<JsonObject>())
            {
                Add(names, (plugin["secretRef"] as JsonObject)?["name"]);
                Add(names, (plugin["nodePublishSecretRef"] as JsonObject)?["name"]);
            }
        }
        foreach (var pull in Array(pod["spec"]?["imagePullSecrets"]))
        {
            Add(names, pull["name"]);
        }
        foreach (var container in Containers(pod))
        {
            foreach (var env in Array(container["env"]))
            {
                Add(names, env["valueFrom"]?["secretKeyRef"]?["name"]);
            }
            foreach (var from in Array(container["envFrom"]))
            {
                Add(names, from["secretRef"]?["name"]);
            }
        }
        return names;
    }

    private static HashSet<string> ConfigMaps(JsonObject pod)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var volume in Volumes(pod))
        {
            Add(names, volume["configMap"]?["name"]);
            foreach (var source in Array(volume["projected"]?["sources"]))
            {
                Add(names, source["configMap"]?["name"]);
            }
        }
        foreach (var container in Containers(pod))
        {
            foreach (var env in Array(container["env"]))
            {
                Add(names, env["valueFrom"]?["configMapKeyRef"]?["name"]);
            }
            foreach (var from in Array(container["envFrom"]))
            {
                Add(names, from["configMapRef"]?["name"]);
            }
        }
        if ((bool?)pod["spec"]?["automountServiceAccountToken"] != false)
        {
            names.Add("kube-root-ca.crt");
        }
        return names;
    }

    private static IEnumerable<JsonObject> Volumes(JsonObject pod) => Array(pod["spec"]?["volumes"]);

    private static IEnumerable<JsonObject> Containers(JsonObject pod) =>
        Array(pod["spec"]?["containers"]).Concat(Array(pod["spec"]?["initContainers"])).Concat(Array(pod["spec"]?["ephemeralContainers"]));

    private static IEnumerable<JsonObject> Array(JsonNode? node) => node is JsonArray a ? a.OfType<JsonObject>() : [];

    private static void Add(HashSet<string> names, JsonNode? name)
    {
        if (name is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0)
        {
            names.Add(s);
        }
    }
}
