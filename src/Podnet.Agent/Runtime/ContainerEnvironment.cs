using k8s.Models;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Runtime;

/// <summary>
/// A container's environment as the kubelet builds it: the Service variables first (unless
/// enableServiceLinks is false; the kubernetes Service's always), then the container's own
/// env, whose values may refer to earlier ones with $(NAME) and may come from the pod's own
/// fields (the downward API's fieldRef).
/// </summary>
public static class ContainerEnvironment
{
    public static IReadOnlyList<KeyValuePair<string, string>> Build(V1Pod pod, V1Container container, IReadOnlyList<string> podIPs, string hostIP, IEnumerable<ServiceInfo> services)
    {
        var ns = pod.Metadata?.NamespaceProperty ?? "default";
        var links = pod.Spec?.EnableServiceLinks != false;
        var serviceEnv = ServiceEnvironment.Build(ns, services.Where(s => links || (s.Namespace == "default" && s.Name == "kubernetes")));
        var env = new List<KeyValuePair<string, string>>(serviceEnv);
        var values = serviceEnv.ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var variable in container.Env ?? [])
        {
            var value = variable.ValueFrom?.FieldRef?.FieldPath is { } field
                ? Field(pod, field, podIPs, hostIP) ?? ""
                : Expand(variable.Value ?? "", values);
            values[variable.Name] = value;
            env.RemoveAll(kv => kv.Key == variable.Name);
            env.Add(new(variable.Name, value));
        }
        return env;
    }

    private static string? Field(V1Pod pod, string path, IReadOnlyList<string> podIPs, string hostIP) => path switch
    {
        "metadata.name" => pod.Metadata?.Name,
        "metadata.namespace" => pod.Metadata?.NamespaceProperty,
        "metadata.uid" => pod.Metadata?.Uid,
        "spec.nodeName" => pod.Spec?.NodeName,
        "spec.serviceAccountName" => pod.Spec?.ServiceAccountName ?? "default",
        "status.podIP" => podIPs.FirstOrDefault(),
        "status.podIPs" => string.Join(',', podIPs),
        "status.hostIP" or "status.hostIPs" => hostIP,
        _ when path.StartsWith("metadata.labels['", StringComparison.Ordinal) => Lookup(pod.Metadata?.Labels, path["metadata.labels['".Length..^2]),
        _ when path.StartsWith("metadata.annotations['", StringComparison.Ordinal) => Lookup(pod.Metadata?.Annotations, path["metadata.annotations['".Length..^2]),
        _ => null,
    };

    private static string? Lookup(IDictionary<string, string>? map, string key) => map is not null && map.TryGetValue(key, out var value) ? value : null;

    /// <summary>$(NAME) becomes the value of NAME when it is defined earlier; $$ escapes a dollar.</summary>
    private static string Expand(string text, IReadOnlyDictionary<string, string> values)
    {
        var result = new System.Text.StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '$')
            {
                result.Append('$');
                i++;
            }
            else if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '(' && text.IndexOf(')', i) is var close and > 0
                && values.TryGetValue(text[(i + 2)..close], out var value))
            {
                result.Append(value);
                i = close;
            }
            else
            {
                result.Append(text[i]);
            }
        }
        return result.ToString();
    }
}
