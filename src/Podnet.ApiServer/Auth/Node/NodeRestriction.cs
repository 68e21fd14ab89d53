using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Auth.Node;

/// <summary>
/// kube-apiserver's NodeRestriction admission (plugin/pkg/admission/noderestriction), for the
/// kinds served here: a node changes only its own Node (and never its labels under
/// node-restriction.kubernetes.io/), its own Lease, and the status of the pods bound to it; it
/// deletes or evicts only pods bound to it, creates only mirror pods bound to itself, and
/// requests only tokens bound to a pod of its own. Denials are 403 worded as upstream's
/// (`nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`).
/// </summary>
/// <remarks>
/// Two entry points, because a delete carries no object through admission: <see cref="CheckRequest"/>
/// runs after authorization on the request's attributes (deletes, evictions), <see cref="Admit"/>
/// inside the write on the object and its stored version (everything that has a body).
/// </remarks>
internal sealed class NodeRestriction(ObjectStore store)
{
    public const string RestrictedLabelPrefix = "node-restriction.kubernetes.io/";
    public const string MirrorAnnotation = "kubernetes.io/config.mirror";

    /// <summary>The checks that need no body: a node deletes or evicts only pods bound to it.</summary>
    public void CheckRequest(RequestAttributes a)
    {
        if (NodeIdentity.NodeName(a.User) is not { } node || a.ApiGroup.Length != 0 || a.Resource != "pods")
        {
            return;
        }
        var delete = a.Verb == "delete" && a.Subresource.Length == 0;
        var evict = a.Verb == "create" && a.Subresource == "eviction";
        if ((delete || evict) && store.Get(ResourceCatalog.Pods.Key, a.Namespace, a.Name) is { } stored && !NodeAuthorizer.BoundTo(stored.Parse(), node))
        {
            throw Forbid(ResourceCatalog.Pods, a.Name, $"node \"{node}\" can only {(delete ? "delete" : "evict")} pods with spec.nodeName set to itself");
        }
    }

    /// <summary>The admission of a create (<paramref name="old"/> null) or an update by the request's user.</summary>
    public static void Admit(ResourceInfo r, JsonObject obj, JsonObject? old)
    {
        if (AccessGate.RequestUser is not { } user || NodeIdentity.NodeName(user) is not { } node)
        {
            return;
        }
        if (r == ResourceCatalog.Nodes)
        {
            AdmitNode(node, obj, old);
        }
        else if (r == ResourceCatalog.Pods)
        {
            AdmitPod(node, obj, old);
        }
        else if (r == ResourceCatalog.Leases && obj.Name() != node)
        {
            throw Forbid(r, obj.Name(), "can only access node lease with the same name as the requesting node");
        }
    }

    /// <summary>A token a node requests must be bound to a pod bound to that node (upstream's admitServiceAccount).</summary>
    public static void AdmitTokenRequest(UserInfo user, JsonObject? boundObject, JsonObject? boundPod)
    {
        if (NodeIdentity.NodeName(user) is not { } node)
        {
            return;
        }
        string? why = null;
        if ((string?)boundObject?["kind"] != "Pod")
        {
            why = "node requested token not bound to a pod";
        }
        else if ((string?)boundObject["uid"] is not { Length: > 0 })
        {
            why = "node requested token with a pod binding without a uid";
        }
        else if (!NodeAuthorizer.BoundTo(boundPod, node))
        {
            why = "node requested token bound to a pod scheduled on a different node";
        }
        if (why is not null)
        {
            throw Forbid(ResourceCatalog.ServiceAccounts, "", why);
        }
    }

    private static void AdmitNode(string node, JsonObject obj, JsonObject? old)
    {
        if (obj.Name() != node)
        {
            throw Forbid(ResourceCatalog.Nodes, obj.Name(), $"node \"{node}\" is not allowed to modify node \"{obj.Name()}\"");
        }
        var labels = Labels(obj);
        if (old is null)
        {
            var set = labels.Keys.Where(Restricted).Order(StringComparer.Ordinal).ToList();
            if (set.Count > 0)
            {
                throw Forbid(ResourceCatalog.Nodes, node, $"node \"{node}\" is not allowed to set the following labels: {string.Join(", ", set)}");
            }
            return;
        }
        var before = Labels(old);
        var modified = labels.Keys.Union(before.Keys)
            .Where(k => Restricted(k) && labels.GetValueOrDefault(k) != before.GetValueOrDefault(k))
            .Order(StringComparer.Ordinal).ToList();
        if (modified.Count > 0)
        {
            throw Forbid(ResourceCatalog.Nodes, node, $"node \"{node}\" is not allowed to modify labels: {string.Join(", ", modified)}");
        }
    }

    private static void AdmitPod(string node, JsonObject obj, JsonObject? old)
    {
        if (old is null)
        {
            if ((string?)obj["metadata"]?["annotations"]?[MirrorAnnotation] is null)
            {
                throw Forbid(ResourceCatalog.Pods, obj.Name(), $"pod does not have \"{MirrorAnnotation}\" annotation, node \"{node}\" can only create mirror pods");
            }
            if (!NodeAuthorizer.BoundTo(obj, node))
            {
                throw Forbid(ResourceCatalog.Pods, obj.Name(), $"node \"{node}\" can only create pods with spec.nodeName set to itself");
            }
            return;
        }
        if (!NodeAuthorizer.BoundTo(old, node))
        {
            throw Forbid(ResourceCatalog.Pods, obj.Name(), $"node \"{node}\" can only update pod status for pods with spec.nodeName set to itself");
        }
    }

    private static bool Restricted(string label)
    {
        var slash = label.IndexOf('/');
        var prefix = slash < 0 ? "" : label[..slash];
        return prefix == RestrictedLabelPrefix.TrimEnd('/') || prefix.EndsWith("." + RestrictedLabelPrefix.TrimEnd('/'), StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Labels(JsonObject obj) =>
        obj["metadata"]?["labels"] is JsonObject labels ? labels.ToDictionary(p => p.Key, p => (string?)p.Value, StringComparer.Ordinal) : [];

    /// <summary>As upstream's admission.NewForbidden: `KIND "NAME" is forbidden: WHY`.</summary>
    private static ApiException Forbid(ResourceInfo r, string name, string why)
    {
        var details = new JsonObject();
        if (name.Length > 0)
        {
            details["name"] = name;
        }
        if (r.Group.Length > 0)
        {
            details["group"] = r.Group;
        }
        details["kind"] = r.Plural;
        var what = name.Length > 0 ? $"{r.QualifiedPlural} \"{name}\"" : r.QualifiedPlural;
        return new ApiException(403, "Forbidden", $"{what} is forbidden: {why}", details);
    }
}
