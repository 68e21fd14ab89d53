using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Selectors;

/// <summary>
/// A field selector (<c>spec.nodeName=n1,status.phase!=Running</c>) over the fields each
/// resource supports, as kube-apiserver: an unsupported field is a 400, not an empty list.
/// </summary>
internal sealed class FieldSelector(IReadOnlyList<(string Path, bool Equal, string Value)> terms)
{
    public static readonly FieldSelector Everything = new([]);

    private static readonly Dictionary<string, string[]> Supported = new()
    {
        ["pods"] = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
        ["events"] = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
        ["secrets"] = ["type"],
        ["namespaces"] = ["status.phase"],
        ["nodes"] = ["spec.unschedulable"],
        ["apps/replicasets"] = ["status.replicas"],
    };

    public IReadOnlyList<(string Path, bool Equal, string Value)> Terms { get; } = terms;

    public bool IsEmpty => Terms.Count == 0;

    public static FieldSelector Parse(string? text, ResourceInfo resource)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }
        var terms = new List<(string, bool, string)>();
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            var (index, length, equal) = part.IndexOf("!=", StringComparison.Ordinal) is var ne and >= 0 ? (ne, 2, false)
                : part.IndexOf("==", StringComparison.Ordinal) is var ee and >= 0 ? (ee, 2, true)
                : part.IndexOf('=') is var e and >= 0 ? (e, 1, true)
                : throw new FormatException($"invalid selector: '{text}'; can't understand '{part}'");
            var path = part[..index].Trim();
            var allowed = Supported.GetValueOrDefault(resource.Key, []);
            if (path != "metadata.name" && path != "metadata.namespace" && !allowed.Contains(path))
            {
                throw new FormatException($"field label not supported: {path}");
            }
            terms.Add((path, equal, part[(index + length)..].Trim()));
        }
        return new FieldSelector(terms);
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, equal, value) in Terms)
        {
            var actual = Lookup(obj, path);
            if ((actual == value) != equal)
            {
                return false;
            }
        }
        return true;
    }

    private static string Lookup(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var segment in path.Split('.'))
        {
            node = node is JsonObject o ? o[segment] : null;
        }
        return node switch
        {
            null => path == "spec.unschedulable" || path == "spec.hostNetwork" ? "false" : "",
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => (string)v!,
            _ => node.ToJsonString(),
        };
    }
}
