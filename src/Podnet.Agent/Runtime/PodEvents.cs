using System.Globalization;
using k8s;
using k8s.Models;

namespace Podnet.Agent.Runtime;

/// <summary>
/// Events about the node's pods, written as kubelet writes them: source component kubelet and
/// the node as host, the pod (and container, as spec.containers{NAME}) as involved object, and
/// a repeat of the same event counted on the first one (count, lastTimestamp) rather than
/// written again, as kubelet's event correlator does.
/// </summary>
public sealed class PodEvents(IKubernetes client, string nodeName, Action<string> log)
{
    private readonly Dictionary<string, (string Name, int Count)> _written = new(StringComparer.Ordinal);

    public Task WarningAsync(V1Pod pod, string? container, string reason, string message, CancellationToken token) =>
        WriteAsync(pod, container, "Warning", reason, message, token);

    public async Task WriteAsync(V1Pod pod, string? container, string type, string reason, string message, CancellationToken token)
    {
        var meta = pod.Metadata;
        var key = $"{meta.Uid}\0{container}\0{type}\0{reason}\0{message}";
        var now = DateTime.UtcNow;
        try
        {
            if (_written.TryGetValue(key, out var seen))
            {
                var count = seen.Count + 1;
                var patch = KubernetesJson.Serialize(new { count, lastTimestamp = now });
                await client.CoreV1.PatchNamespacedEventAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), seen.Name, meta.NamespaceProperty, cancellationToken: token);
                _written[key] = (seen.Name, count);
                return;
            }
            var name = $"{meta.Name}.{(now - DateTime.UnixEpoch).Ticks * 100:x}";
            var ev = new Corev1Event
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = meta.NamespaceProperty },
                InvolvedObject = new V1ObjectReference
                {
                    Kind = "Pod",
                    ApiVersion = "v1",
                    Name = meta.Name,
                    NamespaceProperty = meta.NamespaceProperty,
                    Uid = meta.Uid,
                    ResourceVersion = meta.ResourceVersion,
                    FieldPath = container is null ? null : $"spec.containers{{{container}}}",
                },
                Reason = reason,
                Message = message,
                Type = type,
                Source = new V1EventSource { Component = "kubelet", Host = nodeName },
                FirstTimestamp = now,
                LastTimestamp = now,
                Count = 1,
                ReportingComponent = "kubelet",
                ReportingInstance = nodeName,
            };
            await client.CoreV1.CreateNamespacedEventAsync(ev, meta.NamespaceProperty, cancellationToken: token);
            _written[key] = (name, 1);
        }
        catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException)
        {
            log($"cannot write event {reason} for {meta.NamespaceProperty}/{meta.Name}: {e.Message}");
            _written.Remove(key);
        }
    }

    /// <summary>Forgets a pod's events (it is gone).</summary>
    public void Forget(string uid)
    {
        foreach (var key in _written.Keys.Where(k => k.StartsWith(uid + "\0", StringComparison.Ordinal)).ToArray())
        {
            _written.Remove(key);
        }
    }

    internal static string PodRef(V1Pod pod) => string.Create(CultureInfo.InvariantCulture, $"{pod.Metadata.Name}_{pod.Metadata.NamespaceProperty}({pod.Metadata.Uid})");
}
