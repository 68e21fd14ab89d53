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
    /// <remarks>
    /// Values from ConfigMaps and Secrets (envFrom, configMapKeyRef, secretKeyRef) come from
    /// <paramref name="inputs"/>; one that is missing and not optional is kubelet's
    /// CreateContainerConfigError, with kubelet's message.
    /// </remarks>
    public static IReadOnlyList<KeyValuePair<string, string>> Build(V1Pod pod, V1Container container, IReadOnlyList<string> podIPs, string hostIP, IEnumerable<ServiceInfo> services, Volumes.VolumeInputs? inputs = null)
    {
        inputs ??= Volumes.VolumeInputs.None;
        var ns = pod.Metadata?.NamespaceProperty ?? "default";
        var links = pod.Spec?.EnableServiceLinks != false;
        var serviceEnv = ServiceEnvironment.Build(ns, services.Where(s => links || (s.Namespace == "default" && s.Name == "kubernetes")));
        var env = new List<KeyValuePair<string, string>>(serviceEnv);
        var values = serviceEnv.ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var from in container.EnvFrom ?? [])
        {
            foreach (var (key, value) in FromSource(ns, from, inputs))
            {
                var name = (from.Prefix ?? "") + key;
                values[name] = value;
                env.RemoveAll(kv => kv.Key == name);
                env.Add(new(name, value));
            }
        }
        foreach (var variable in container.Env ?? [])
        {
            string? value;
            if (variable.ValueFrom?.ConfigMapKeyRef is { } cmRef)
            {
                value = Key(ns, "ConfigMap", cmRef.Name, cmRef.Key, cmRef.Optional == true, inputs.ConfigMaps.TryGetValue(cmRef.Name, out var cm) ? cm.Data : null, cm is not null);
            }
            else if (variable.ValueFrom?.SecretKeyRef is { } secretRef)
            {
                var found = inputs.Secrets.TryGetValue(secretRef.Name, out var secret);
                value = Key(ns, "Secret", secretRef.Name, secretRef.Key, secretRef.Optional == true, found ? SecretData(secret!) : null, found);
            }
            else
            {
                value = variable.ValueFrom?.FieldRef?.FieldPath is { } field
                    ? Field(pod, field, podIPs, hostIP) ?? ""
                    : Expand(variable.Value ?? "", values);
            }
            if (value is null)
            {
                continue; // optional and missing: no variable, as kubelet
            }
            values[variable.Name] = value;
            env.RemoveAll(kv => kv.Key == variable.Name);
            env.Add(new(variable.Name, value));
        }
        return env;
    }

    private static string? Key(string ns, string kind, string name, string key, bool optional, IDictionary<string, string>? data, bool exists)
    {
        if (!exists)
        {
            return optional ? null : throw new ContainerStartException("CreateContainerConfigError", $"{kind.ToLowerInvariant()} \"{name}\" not found");
        }
        if (data is null || !data.TryGetValue(key, out var value))
        {
            return optional ? null : throw new ContainerStartException("CreateContainerConfigError", $"couldn't find key {key} in {kind} {ns}/{name}");
        }
        return value;
    }

    private static Dictionary<string, string> SecretData(V1Secret secret)
    {
        var data = new Dictionary<string, string>(secret.StringData ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            data[key] = System.Text.Encoding.UTF8.GetString(value);
        }
        return data;
    }

    private static IEnumerable<KeyValuePair<string, string>> FromSource(string ns, V1EnvFromSource from, Volumes.VolumeInputs inputs)
    {
        if (from.ConfigMapRef is { } cmRef)
        {
            if (inputs.ConfigMaps.TryGetValue(cmRef.Name, out var cm))
            {
                return (cm.Data ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal);
            }
            return cmRef.Optional == true ? [] : throw new ContainerStartException("CreateContainerConfigError", $"configmap \"{cmRef.Name}\" not found");
        }
        if (from.SecretRef is { } secretRef)
        {
            if (inputs.Secrets.TryGetValue(secretRef.Name, out var secret))
            {
                return SecretData(secret).OrderBy(kv => kv.Key, StringComparer.Ordinal);
            }
            return secretRef.Optional == true ? [] : throw new ContainerStartException("CreateContainerConfigError", $"secret \"{secretRef.Name}\" not found");
        }
        return [];
    }

    internal static string? Field(V1Pod pod, string path, IReadOnlyList<string> podIPs, string hostIP) => path switch
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

/// <summary>
/// A container that cannot start, with kubelet's waiting reason (CreateContainerConfigError,
/// CreateContainerError, ErrImagePull) and message; the pod's other containers run on.
/// </summary>
public sealed class ContainerStartException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}
