namespace Podnet.ApiServer.Registry;

/// <summary>Every resource this server serves, grouped by API group and version.</summary>
internal static class ResourceCatalog
{
    private static readonly string[] All = ["all"];
    private static readonly string[] None = [];

    public static readonly ResourceInfo Namespaces = new("", "v1", "namespaces", "Namespace", false, ["ns"], ["status", "finalize"], None);
    public static readonly ResourceInfo Nodes = new("", "v1", "nodes", "Node", false, ["no"], ["status", "proxy"], None);
    public static readonly ResourceInfo Pods = new("", "v1", "pods", "Pod", true, ["po"], ["status", "binding", "eviction", "exec", "attach", "portforward", "log"], All);
    public static readonly ResourceInfo Services = new("", "v1", "services", "Service", true, ["svc"], ["status"], All);
    public static readonly ResourceInfo Endpoints = new("", "v1", "endpoints", "Endpoints", true, ["ep"], None, None);
    public static readonly ResourceInfo ConfigMaps = new("", "v1", "configmaps", "ConfigMap", true, ["cm"], None, None);
    public static readonly ResourceInfo Secrets = new("", "v1", "secrets", "Secret", true, None, None, None);
    public static readonly ResourceInfo ServiceAccounts = new("", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"], ["token"], None);
    public static readonly ResourceInfo Events = new("", "v1", "events", "Event", true, ["ev"], None, None);
    public static readonly ResourceInfo EndpointSlices = new("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, None, None, None);
    public static readonly ResourceInfo NetworkPolicies = new("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, ["netpol"], None, None);
    public static readonly ResourceInfo Ingresses = new("networking.k8s.io", "v1", "ingresses", "Ingress", true, ["ing"], ["status"], None);
    public static readonly ResourceInfo IngressClasses = new("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false, None, None, None);
    public static readonly ResourceInfo ServiceCidrs = new("networking.k8s.io", "v1", "servicecidrs", "ServiceCIDR", false, None, ["status"], None);
    public static readonly ResourceInfo IPAddresses = new("networking.k8s.io", "v1", "ipaddresses", "IPAddress", false, ["ip"], None, None);
    public static readonly ResourceInfo Deployments = new("apps", "v1", "deployments", "Deployment", true, ["deploy"], ["status", "scale"], All);
    public static readonly ResourceInfo ReplicaSets = new("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], ["status", "scale"], All);
    public static readonly ResourceInfo StatefulSets = new("apps", "v1", "statefulsets", "StatefulSet", true, ["sts"], ["status", "scale"], All);
    public static readonly ResourceInfo ControllerRevisions = new("apps", "v1", "controllerrevisions", "ControllerRevision", true, None, None, None);
    public static readonly ResourceInfo PodDisruptionBudgets = new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, ["pdb"], ["status"], None);
    public static readonly ResourceInfo DaemonSets = new("apps", "v1", "daemonsets", "DaemonSet", true, ["ds"], ["status"], All);
    public static readonly ResourceInfo Leases = new("coordination.k8s.io", "v1", "leases", "Lease", true, None, None, None);
    public static readonly ResourceInfo Roles = new("rbac.authorization.k8s.io", "v1", "roles", "Role", true, None, None, None);
    public static readonly ResourceInfo ClusterRoles = new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, None, None, None);
    public static readonly ResourceInfo RoleBindings = new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, None, None, None);
    public static readonly ResourceInfo ClusterRoleBindings = new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, None, None, None);

    public static readonly ResourceInfo CustomResourceDefinitions = new("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, ["crd", "crds"], ["status"], ["api-extensions"]);

    public static readonly IReadOnlyList<ResourceInfo> Resources =
    [
        Namespaces, Nodes, Pods, Services, Endpoints, ConfigMaps, Secrets, ServiceAccounts, Events,
        EndpointSlices, NetworkPolicies, Deployments, ReplicaSets, Leases,
        DaemonSets,
        Roles, ClusterRoles, RoleBindings, ClusterRoleBindings,
        StatefulSets, ControllerRevisions, PodDisruptionBudgets,
        Ingresses, IngressClasses, ServiceCidrs, IPAddresses,
        CustomResourceDefinitions,
    ];

    /// <summary>
    /// Served in JSON only: upstream serves CRDs in protobuf too (apiextensions' generated.proto),
    /// but scripts/protobuf-schema.py reads k8s.io/api and apimachinery only, and JSONSchemaProps'
    /// hand-written protobuf (JSON inside bytes fields) is not in its reach; clients send CRDs as
    /// JSON (kubectl and client-go's dynamic client do), and a protobuf-only Accept is a 406.
    /// </summary>
    public static readonly IReadOnlyList<ResourceInfo> JsonOnly = [CustomResourceDefinitions];

    /// <summary>Group names in the order /apis lists them, each with its one version.</summary>
    public static readonly IReadOnlyList<string> Groups = Resources.Where(r => r.Group.Length > 0).Select(r => r.Group).Distinct().ToArray();

    private static readonly Dictionary<string, ResourceInfo> ByPath = Resources.ToDictionary(r => $"{r.Group}/{r.Version}/{r.Plural}");

    private static readonly Dictionary<string, ResourceInfo> ByKey = Resources.ToDictionary(r => r.Key);

    public static ResourceInfo? Find(string group, string version, string plural) =>
        ByPath.GetValueOrDefault($"{group}/{version}/{plural}");

    public static ResourceInfo Get(string key) => ByKey[key];

    public static IEnumerable<ResourceInfo> InGroupVersion(string group, string version) =>
        Resources.Where(r => r.Group == group && r.Version == version);

    public static ResourceInfo? FindByKind(string apiVersion, string kind) =>
        Resources.FirstOrDefault(r => r.ApiVersion == apiVersion && r.Kind == kind);
}
