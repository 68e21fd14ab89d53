using System.Text.Json.Nodes;
using Podnet.ApiServer.Auth.Rbac;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Auth.Node;

/// <summary>
/// kube-apiserver's Node authorizer (--authorization-mode=Node, before RBAC): a node
/// (system:node:NAME in system:nodes) may read the Secrets, ConfigMaps and
/// PersistentVolumeClaims, and create tokens for the ServiceAccounts, of the pods bound to it,
/// and reach its own Lease in kube-node-lease only; anything else it may do is what the
/// system:node role's rules allow. Where it does not allow, it has no opinion and RBAC decides
/// (so the cluster-wide reads of deploy/rbac.yaml's podnet:agent, bound to system:nodes, count),
/// with the reason it gives kept for the 403.
/// </summary>
/// <remarks>
/// Upstream keeps a graph of pods, nodes and what pods refer to, fed by informers. Here the
/// pods bound to the node are read from the store when a request needs them: only the few
/// graph-restricted kinds do (a node's Secret and ConfigMap reads, one token request per pod
/// an hour), so a scan of one namespace's pods costs less than keeping a graph in step.
/// </remarks>
internal sealed class NodeAuthorizer(ObjectStore store)
{
    public const string LeaseNamespace = "kube-node-lease";

    private static readonly Lazy<IReadOnlyList<PolicyRule>> NodeRules = new(() =>
        PolicyRule.ListFrom(BootstrapPolicy.ClusterRoles.First(r => (string?)r["metadata"]?["name"] == "system:node")["rules"]));

    /// <summary>(true, "") when the node authorizer allows; (false, reason) when it has no opinion.</summary>
    public (bool Allowed, string Reason) Authorize(RequestAttributes a)
    {
        if (NodeIdentity.NodeName(a.User) is not { } node || !a.IsResourceRequest)
        {
            return (false, "");
        }
        if (a.ApiGroup.Length == 0)
        {
            switch (a.Resource)
            {
                case "secrets" or "configmaps" or "persistentvolumeclaims" when a.Subresource.Length == 0:
                    return ReadRelated(a, node);
                case "serviceaccounts" when a.Subresource == "token":
                    return CreateToken(a, node);
            }
        }
        if (a.ApiGroup == "coordination.k8s.io" && a.Resource == "leases" && a.Subresource.Length == 0)
        {
            return Lease(a, node);
        }
        return (NodeRules.Value.Any(r => r.Allows(a)), "");
    }

    /// <summary>Whether <paramref name="pod"/> is bound to <paramref name="node"/>.</summary>
    public static bool BoundTo(JsonObject? pod, string node) => (string?)pod?["spec"]?["nodeName"] == node;

    private (bool, string) ReadRelated(RequestAttributes a, string node)
    {
        if (a.Verb is not ("get" or "list" or "watch") || a.Name.Length == 0)
        {
            return (false, "can only get individual resources of this type");
        }
        return Related(node, a.Namespace, a.Resource, a.Name)
            ? (true, "")
            : (false, $"no relationship found between node '{node}' and this object");
    }

    private (bool, string) CreateToken(RequestAttributes a, string node)
    {
        if (a.Verb != "create" || a.Name.Length == 0)
        {
            return (false, "can only create tokens for individual service accounts");
        }
        return Related(node, a.Namespace, "serviceaccounts", a.Name)
            ? (true, "")
            : (false, $"no relationship found between node '{node}' and this object");
    }

    private static (bool, string) Lease(RequestAttributes a, string node)
    {
        if (a.Verb is not ("get" or "create" or "update" or "patch" or "delete"))
        {
            return (false, "can only get, create, update, patch, or delete a node lease");
        }
        if (a.Namespace != LeaseNamespace)
        {
            return (false, $"can only access leases in the \"{LeaseNamespace}\" system namespace");
        }
        if (a.Verb != "create" && a.Name != node)
        {
            return (false, "can only access node lease with the same name as the requesting node");
        }
        return (true, "");
    }

    private bool Related(string node, string ns, string resource, string name) =>
        store.List(ResourceCatalog.Pods.Key, ns).Items.Select(o => o.Parse()).Any(pod => BoundTo(pod, node) && PodReferences.RefersTo(pod, resource, name));
}
