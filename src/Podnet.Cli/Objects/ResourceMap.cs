namespace Podnet.Cli.Objects;

/// <summary>A resource the object commands know: its API path and the names kubectl accepts for it.</summary>
internal sealed record ResourceType(string Resource, string Kind, string Group, string Version, bool Namespaced, params string[] Aliases)
{
    public string ApiPrefix => Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";

    /// <summary>The collection's path, in a namespace when there is one.</summary>
    public string Path(string? ns) => Namespaced && ns is not null ? $"{ApiPrefix}/namespaces/{Uri.EscapeDataString(ns)}/{Resource}" : $"{ApiPrefix}/{Resource}";

    /// <summary>kubectl's "kind.group" for -o name and messages: pod, deployment.apps.</summary>
    public string Singular => Group.Length == 0 ? Kind.ToLowerInvariant() : $"{Kind.ToLowerInvariant()}.{Group}";
}

internal static class ResourceMap
{
    public static readonly IReadOnlyList<ResourceType> All =
    [
        new("pods", "Pod", "", "v1", true, "pod", "po"),
        new("services", "Service", "", "v1", true, "service", "svc"),
        new("nodes", "Node", "", "v1", false, "node", "no"),
        new("namespaces", "Namespace", "", "v1", false, "namespace", "ns"),
        new("endpoints", "Endpoints", "", "v1", true, "ep"),
        new("configmaps", "ConfigMap", "", "v1", true, "configmap", "cm"),
        new("secrets", "Secret", "", "v1", true, "secret"),
        new("serviceaccounts", "ServiceAccount", "", "v1", true, "serviceaccount", "sa"),
        new("events", "Event", "", "v1", true, "event", "ev"),
        new("deployments", "Deployment", "apps", "v1", true, "deployment", "deploy"),
        new("replicasets", "ReplicaSet", "apps", "v1", true, "replicaset", "rs"),
        new("daemonsets", "DaemonSet", "apps", "v1", true, "daemonset", "ds"),
        new("endpointslices", "EndpointSlice", "discovery.k8s.io", "v1", true, "endpointslice"),
        new("networkpolicies", "NetworkPolicy", "networking.k8s.io", "v1", true, "networkpolicy", "netpol"),
        new("ingresses", "Ingress", "networking.k8s.io", "v1", true, "ingress", "ing"),
        new("ingressclasses", "IngressClass", "networking.k8s.io", "v1", false, "ingressclass"),
        new("servicecidrs", "ServiceCIDR", "networking.k8s.io", "v1", false, "servicecidr"),
        new("ipaddresses", "IPAddress", "networking.k8s.io", "v1", false, "ipaddress", "ip"),
        new("leases", "Lease", "coordination.k8s.io", "v1", true, "lease"),
        new("roles", "Role", "rbac.authorization.k8s.io", "v1", true, "role"),
        new("rolebindings", "RoleBinding", "rbac.authorization.k8s.io", "v1", true, "rolebinding"),
        new("clusterroles", "ClusterRole", "rbac.authorization.k8s.io", "v1", false, "clusterrole"),
        new("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", false, "clusterrolebinding"),
        new("statefulsets", "StatefulSet", "apps", "v1", true, "statefulset", "sts"),
        new("controllerrevisions", "ControllerRevision", "apps", "v1", true, "controllerrevision"),
        new("poddisruptionbudgets", "PodDisruptionBudget", "policy", "v1", true, "poddisruptionbudget", "pdb"),
    ];

    /// <summary>The resource for a name as kubectl takes it (pods, pod, po, deployments.apps…), or null.</summary>
    public static ResourceType? Find(string name)
    {
        var lower = name.ToLowerInvariant();
        return All.FirstOrDefault(r => r.Resource == lower || r.Aliases.Contains(lower) || $"{r.Resource}.{r.Group}" == lower || r.Kind.Equals(name, StringComparison.OrdinalIgnoreCase));
    }
}
