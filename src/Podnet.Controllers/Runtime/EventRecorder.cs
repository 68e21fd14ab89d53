using k8s;
using k8s.Models;

namespace Podnet.Controllers.Runtime;

/// <summary>
/// Writes core/v1 Events about objects, once per (object, reason, message) for as long as the
/// process lives, so a controller that recomputes every sync does not repeat itself.
/// </summary>
internal sealed class EventRecorder(IKubernetes client, string component)
{
    private readonly HashSet<string> _sent = new(StringComparer.Ordinal);

    public async Task RecordAsync(V1ObjectReference about, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var key = $"{about.Kind}/{about.NamespaceProperty}/{about.Name}/{about.Uid}|{reason}|{message}";
        lock (_sent)
        {
            if (!_sent.Add(key))
            {
                return;
            }
        }
        var now = DateTime.UtcNow;
        var ns = string.IsNullOrEmpty(about.NamespaceProperty) ? "default" : about.NamespaceProperty;
        var e = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = about.Name + ".", NamespaceProperty = ns },
            InvolvedObject = about,
            Type = type,
            Reason = reason,
            Message = message,
            Source = new V1EventSource { Component = component },
            ReportingComponent = component,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        await client.CoreV1.CreateNamespacedEventAsync(e, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forgets what was said about an object, so the same problem is reported again when it comes back.</summary>
    public void Forget(string uid)
    {
        lock (_sent)
        {
            _sent.RemoveWhere(k => k.Split('|')[0].EndsWith("/" + uid, StringComparison.Ordinal));
        }
    }

    public static V1ObjectReference Ref(string kind, V1ObjectMeta meta, string apiVersion = "v1") => new()
    {
        Kind = kind,
        ApiVersion = apiVersion,
        NamespaceProperty = meta.NamespaceProperty,
        Name = meta.Name,
        Uid = meta.Uid,
        ResourceVersion = meta.ResourceVersion,
    };
}
