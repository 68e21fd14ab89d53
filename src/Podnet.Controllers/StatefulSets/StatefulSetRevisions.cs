using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.StatefulSets;

/// <summary>The revisions one sync works with: the one pods should move to, the one they come from, and writes to make.</summary>
public sealed record RevisionPlan(
    V1ControllerRevision Update,
    V1ControllerRevision Current,
    V1ControllerRevision? Create,
    (string Name, long Revision)? Renumber,
    IReadOnlyList<string> Delete);

/// <summary>
/// A StatefulSet's ControllerRevisions, as upstream's history: each holds the pod template as a
/// strategic merge patch of the StatefulSet ({"spec":{"template":{…,"$patch":"replace"}}}),
/// which is what `kubectl rollout history` shows and `kubectl rollout undo` applies back.
/// </summary>
/// <remarks>
/// The name is &lt;set&gt;-&lt;hash&gt;, the hash FNV-32a over the data (as upstream's
/// HashControllerRevision) but over Podnet's canonical JSON (sorted keys), so values differ from
/// kube-controller-manager's; revisions are matched by comparing data, never by name alone. A
/// template that goes back to an older revision's reuses that revision with the next number, as
/// upstream does. History beyond revisionHistoryLimit is deleted oldest first, except revisions
/// the current or update revision or a live pod still uses.
/// </remarks>
public static class StatefulSetRevisions
{
    public const string HashLabel = "controller-revision-hash";

    public static RevisionPlan Calc(V1StatefulSet set, IEnumerable<V1ControllerRevision> revisions, IEnumerable<V1Pod> pods)
    {
        var owned = revisions.Where(r => Owners.IsControlledBy(r.Metadata, set.Metadata)).OrderBy(r => r.Revision).ToList();
        var data = Data(set.Spec.Template);
        var canonical = Canonical(data);
        var next = owned.Count == 0 ? 1 : owned.Max(r => r.Revision ?? 0) + 1;
        V1ControllerRevision update;
        V1ControllerRevision? create = null;
        (string, long)? renumber = null;
        var equal = owned.LastOrDefault(r => Canonical(JsonNode.Parse(KubernetesJson.Serialize(r.Data))) == canonical);
        if (equal is null)
        {
            update = create = New(set, data, next);
        }
        else if (equal != owned[^1])
        {
            // Rolling back to an older template: that revision becomes the newest.
            update = Copy(equal, next);
            renumber = (equal.Metadata.Name, next);
        }
        else
        {
            update = equal;
        }
        var current = owned.FirstOrDefault(r => r.Metadata.Name == set.Status?.CurrentRevision) ?? update;
        var used = pods.Select(StatefulSetCalc.Revision).OfType<string>().ToHashSet();
        used.Add(update.Metadata.Name);
        used.Add(current.Metadata.Name);
        var history = owned.Where(r => !used.Contains(r.Metadata.Name)).ToList();
        var limit = Math.Max(0, set.Spec.RevisionHistoryLimit ?? 10);
        var delete = history.Take(Math.Max(0, history.Count - limit)).Select(r => r.Metadata.Name).ToList();
        return new RevisionPlan(update, current, create, renumber, delete);
    }

    /// <summary>The template a revision holds, as a pod template.</summary>
    public static V1PodTemplateSpec Template(V1ControllerRevision revision)
    {
        var data = JsonNode.Parse(KubernetesJson.Serialize(revision.Data));
        var template = data?["spec"]?["template"]?.DeepClone() as JsonObject ?? [];
        template.Remove("$patch");
        return KubernetesJson.Deserialize<V1PodTemplateSpec>(template.ToJsonString());
    }

    public static JsonObject Data(V1PodTemplateSpec template)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(template)) as JsonObject ?? [];
        node["$patch"] = "replace";
        return new JsonObject { ["spec"] = new JsonObject { ["template"] = node } };
    }

    private static V1ControllerRevision New(V1StatefulSet set, JsonObject data, long number)
    {
        var hash = PodTemplateHash.SafeEncode(PodTemplateHash.Fnv32a(Encoding.UTF8.GetBytes(Canonical(data))).ToString(CultureInfo.InvariantCulture));
        var prefix = set.Metadata.Name.Length > 223 ? set.Metadata.Name[..223] : set.Metadata.Name;
        return new V1ControllerRevision
        {
            ApiVersion = "apps/v1",
            Kind = "ControllerRevision",
            Metadata = new V1ObjectMeta
            {
                Name = $"{prefix}-{hash}",
                NamespaceProperty = set.Metadata.NamespaceProperty,
                Labels = set.Spec.Template?.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels) : null,
                OwnerReferences = [Owners.ControllerRef("apps/v1", "StatefulSet", set.Metadata)],
            },
            Data = data,
            Revision = number,
        };
    }

    private static V1ControllerRevision Copy(V1ControllerRevision revision, long number) => new()
    {
        ApiVersion = revision.ApiVersion,
        Kind = revision.Kind,
        Metadata = revision.Metadata,
        Data = revision.Data,
        Revision = number,
    };

    private static string Canonical(JsonNode? node) => Sorted(node)?.ToJsonString() ?? "null";

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };
}
