using System.Globalization;
using System.Text;
using k8s.Models;

namespace Podnet.Agent.Runtime.Volumes;

/// <summary>One file of a volume's payload: its content and mode bits.</summary>
public sealed record VolumeFile(byte[] Content, int Mode)
{
    public bool SameAs(VolumeFile other) => Mode == other.Mode && Content.AsSpan().SequenceEqual(other.Content);
}

/// <summary>
/// The API objects a pod's volumes and environment read, fetched by the agent before a start
/// and at each refresh; a name missing from a dictionary is an object that does not exist.
/// </summary>
public sealed record VolumeInputs(
    IReadOnlyDictionary<string, V1ConfigMap> ConfigMaps,
    IReadOnlyDictionary<string, V1Secret> Secrets,
    string Token,
    IReadOnlyDictionary<string, ResourceQuantity> NodeAllocatable,
    bool AutomountServiceAccountToken = true)
{
    public static readonly VolumeInputs None = new(new Dictionary<string, V1ConfigMap>(), new Dictionary<string, V1Secret>(), "", new Dictionary<string, ResourceQuantity>());
}

/// <summary>
/// The payload of configMap, secret, downwardAPI and projected volumes, as kubelet builds it:
/// pure, from the pod and the objects it names. Errors are <see cref="VolumeException"/>s with
/// kubelet's messages.
/// </summary>
public static class VolumeFiles
{
    /// <summary>kubelet's default mode for these volumes' files (0644).</summary>
    public const int DefaultMode = 0x1A4;

    /// <summary>The ConfigMaps and Secrets (by name, in the pod's namespace) the pod's volumes and env refer to.</summary>
    public static (IReadOnlySet<string> ConfigMaps, IReadOnlySet<string> Secrets) References(V1Pod pod)
    {
        var configMaps = new SortedSet<string>(StringComparer.Ordinal);
        var secrets = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            AddIf(configMaps, volume.ConfigMap?.Name);
            AddIf(secrets, volume.Secret?.SecretName);
            foreach (var source in volume.Projected?.Sources ?? [])
            {
                AddIf(configMaps, source.ConfigMap?.Name);
                AddIf(secrets, source.Secret?.Name);
            }
        }
        foreach (var container in (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []))
        {
            foreach (var env in container.Env ?? [])
            {
                AddIf(configMaps, env.ValueFrom?.ConfigMapKeyRef?.Name);
                AddIf(secrets, env.ValueFrom?.SecretKeyRef?.Name);
            }
            foreach (var from in container.EnvFrom ?? [])
            {
                AddIf(configMaps, from.ConfigMapRef?.Name);
                AddIf(secrets, from.SecretRef?.Name);
            }
        }
        return (configMaps, secrets);
    }

    private static void AddIf(SortedSet<string> set, string? name)
    {
        if (!string.IsNullOrEmpty(name))
        {
            set.Add(name);
        }
    }

    /// <summary>The files of a data volume (not emptyDir or hostPath), by path relative to the volume.</summary>
    public static IReadOnlyDictionary<string, VolumeFile> Build(V1Pod pod, PlannedVolume volume, VolumeInputs inputs)
    {
        var files = new SortedDictionary<string, VolumeFile>(StringComparer.Ordinal);
        var source = volume.Source;
        switch (volume.Kind)
        {
            case VolumeKind.ConfigMap:
                var cm = source.ConfigMap!;
                AddConfigMap(files, volume.Name, cm.Name, cm.Items, cm.Optional == true, cm.DefaultMode ?? DefaultMode, inputs);
                break;
            case VolumeKind.Secret:
                var secret = source.Secret!;
                AddSecret(files, volume.Name, secret.SecretName, secret.Items, secret.Optional == true, secret.DefaultMode ?? DefaultMode, inputs);
                break;
            case VolumeKind.DownwardApi:
                AddDownward(files, pod, volume.Name, source.DownwardAPI!.Items, source.DownwardAPI.DefaultMode ?? DefaultMode, inputs);
                break;
            case VolumeKind.Projected:
                var mode = source.Projected!.DefaultMode ?? DefaultMode;
                foreach (var s in source.Projected.Sources ?? [])
                {
                    if (s.ConfigMap is { } c)
                    {
                        AddConfigMap(files, volume.Name, c.Name, c.Items, c.Optional == true, mode, inputs);
                    }
                    else if (s.Secret is { } sec)
                    {
                        AddSecret(files, volume.Name, sec.Name, sec.Items, sec.Optional == true, mode, inputs);
                    }
                    else if (s.DownwardAPI is { } d)
                    {
                        AddDownward(files, pod, volume.Name, d.Items, mode, inputs);
                    }
                    else if (s.ServiceAccountToken is { } token)
                    {
                        Add(files, volume.Name, token.Path, Encoding.UTF8.GetBytes(inputs.Token), mode);
                    }
                    else
                    {
                        throw new VolumeException(volume.Name, "a projected source other than configMap, secret, downwardAPI and serviceAccountToken is not supported by Podnet");
                    }
                }
                break;
            default:
                throw new ArgumentException($"volume {volume.Name} ({volume.Kind}) has no payload");
        }
        return files;
    }

    private static void AddConfigMap(SortedDictionary<string, VolumeFile> files, string volume, string name, IList<V1KeyToPath>? items, bool optional, int mode, VolumeInputs inputs)
    {
        if (!inputs.ConfigMaps.TryGetValue(name, out var cm))
        {
            if (optional)
            {
                return;
            }
            throw new VolumeException(volume, $"configmap \"{name}\" not found");
        }
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in cm.Data ?? new Dictionary<string, string>())
        {
            data[key] = Encoding.UTF8.GetBytes(value);
        }
        foreach (var (key, value) in cm.BinaryData ?? new Dictionary<string, byte[]>())
        {
            data[key] = value;
        }
        AddKeys(files, volume, data, items, optional, mode, key => $"configmap references non-existent config key: {key}");
    }

    private static void AddSecret(SortedDictionary<string, VolumeFile> files, string volume, string name, IList<V1KeyToPath>? items, bool optional, int mode, VolumeInputs inputs)
    {
        if (!inputs.Secrets.TryGetValue(name, out var secret))
        {
            if (optional)
            {
                return;
            }
            throw new VolumeException(volume, $"secret \"{name}\" not found");
        }
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in secret.StringData ?? new Dictionary<string, string>())
        {
            data[key] = Encoding.UTF8.GetBytes(value);
        }
        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            data[key] = value;
        }
        AddKeys(files, volume, data, items, optional, mode, key => $"references non-existent secret key: {key}");
    }

    private static void AddKeys(SortedDictionary<string, VolumeFile> files, string volume, Dictionary<string, byte[]> data, IList<V1KeyToPath>? items, bool optional, int mode, Func<string, string> missing)
    {
        if (items is not { Count: > 0 })
        {
            foreach (var (key, value) in data)
            {
                Add(files, volume, key, value, mode);
            }
            return;
        }
        foreach (var item in items)
        {
            if (!data.TryGetValue(item.Key, out var value))
            {
                if (optional)
                {
                    continue;
                }
                throw new VolumeException(volume, missing(item.Key));
            }
            Add(files, volume, item.Path, value, item.Mode ?? mode);
        }
    }

    private static void AddDownward(SortedDictionary<string, VolumeFile> files, V1Pod pod, string volume, IList<V1DownwardAPIVolumeFile>? items, int mode, VolumeInputs inputs)
    {
        foreach (var item in items ?? [])
        {
            string value;
            if (item.FieldRef?.FieldPath is { } field)
            {
                value = field switch
                {
                    "metadata.labels" => FormatMap(pod.Metadata?.Labels),
                    "metadata.annotations" => FormatMap(pod.Metadata?.Annotations),
                    _ when field.StartsWith("metadata.", StringComparison.Ordinal) => ContainerEnvironment.Field(pod, field, [], "")
                        ?? throw new VolumeException(volume, $"downwardAPI fieldRef {field} is not supported"),
                    _ => throw new VolumeException(volume, $"downwardAPI volume fieldRef {field}: only metadata fields are allowed in volumes"),
                };
            }
            else if (item.ResourceFieldRef is { } resource)
            {
                value = ResourceValue(pod, volume, resource, inputs.NodeAllocatable);
            }
            else
            {
                throw new VolumeException(volume, $"downwardAPI item {item.Path} has neither fieldRef nor resourceFieldRef");
            }
            Add(files, volume, item.Path, Encoding.UTF8.GetBytes(value), item.Mode ?? mode);
        }
    }

    /// <summary>
    /// A container's resource in units of the divisor, rounded up, as kubelet computes it; a limit
    /// the container does not set is the node's allocatable, a request it does not set is 0.
    /// </summary>
    public static string ResourceValue(V1Pod pod, string volume, V1ResourceFieldSelector field, IReadOnlyDictionary<string, ResourceQuantity> allocatable)
    {
        var container = (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).FirstOrDefault(c => c.Name == field.ContainerName)
            ?? throw new VolumeException(volume, $"resourceFieldRef names container \"{field.ContainerName}\", which the pod does not have");
        var parts = field.Resource.Split('.', 2);
        if (parts.Length != 2 || parts[0] is not ("limits" or "requests") || parts[1] is not ("cpu" or "memory" or "ephemeral-storage"))
        {
            throw new VolumeException(volume, $"resourceFieldRef resource {field.Resource} is not supported (limits/requests of cpu, memory, ephemeral-storage are)");
        }
        var set = parts[0] == "limits" ? container.Resources?.Limits : container.Resources?.Requests;
        decimal amount;
        if (set is not null && set.TryGetValue(parts[1], out var q))
        {
            amount = q.ToDecimal();
        }
        else if (parts[0] == "limits" && allocatable.TryGetValue(parts[1], out var node))
        {
            amount = node.ToDecimal();
        }
        else
        {
            amount = 0;
        }
        var divisor = field.Divisor?.ToDecimal() is { } d && d > 0 ? d : 1m;
        // kubelet: cpu in millicores divided by the divisor's millicores; others by value; both rounded up.
        var result = parts[1] == "cpu" ? Math.Ceiling(Math.Ceiling(amount * 1000m) / Math.Ceiling(divisor * 1000m)) : Math.Ceiling(amount / divisor);
        return ((long)result).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>key="value" lines sorted by key, without a final newline, values quoted as Go's %q does.</summary>
    public static string FormatMap(IDictionary<string, string>? map)
    {
        if (map is null)
        {
            return "";
        }
        return string.Join('\n', map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Quote(kv.Value)}"));
    }

    private static string Quote(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                < ' ' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }

    private static void Add(SortedDictionary<string, VolumeFile> files, string volume, string path, byte[] content, int mode)
    {
        if (string.IsNullOrEmpty(path) || path.StartsWith('/') || path.Split('/').Any(p => p is ".." or "") || path.StartsWith("..", StringComparison.Ordinal))
        {
            throw new VolumeException(volume, $"invalid path \"{path}\": must be relative, without '..' elements, and must not start with '..'");
        }
        if (mode is < 0 or > 0x1FF)
        {
            throw new VolumeException(volume, $"mode {Convert.ToString(mode, 8)} of {path} is not between 0000 and 0777");
        }
        files[path] = new VolumeFile(content, mode);
    }
}
