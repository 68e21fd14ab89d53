namespace Podnet.ApiServer.Patch;

/// <summary>How a list merges: replaced whole, as a set of scalars, or as a map keyed by some of its items' fields.</summary>
internal enum ListKind
{
    Atomic,
    Set,
    Map,
}

/// <summary>
/// A list's merge semantics: <see cref="PatchKey"/> is the strategic merge patch key (the
/// upstream types' patchMergeKey tag); <see cref="Keys"/> the server-side apply list-map keys
/// (x-kubernetes-list-map-keys), with the defaults a key field gets when an item omits it.
/// </summary>
internal sealed record ListType(ListKind Kind, string? PatchKey = null, string[]? Keys = null)
{
    public static readonly ListType Atomic = new(ListKind.Atomic);
    public static readonly ListType Set = new(ListKind.Set);

    public static ListType Map(string patchKey, params string[] more) => new(ListKind.Map, patchKey, [patchKey, .. more]);

    /// <summary>Defaults of list-map key fields, used when an item leaves one out (as structured-merge-diff does).</summary>
    public static readonly IReadOnlyDictionary<string, string> KeyDefaults = new Dictionary<string, string> { ["protocol"] = "TCP" };
}

/// <summary>
/// The list fields of the served kinds, by where they sit in an object: one table for
/// strategic merge patch (server and `podnet apply`) and server-side apply.
/// </summary>
/// <remarks>
/// A path is the field names from the object's root, without list indices
/// (<c>spec.template.spec.containers.ports</c>). Most list fields mean one thing wherever
/// they appear, so the table is by field name; the exceptions are decided by the enclosing
/// field: <c>ports</c> of a container (containerPort, protocol), of a Service's spec (port,
/// protocol), elsewhere atomic (EndpointSlice, NetworkPolicy); <c>addresses</c> of a Node's
/// status (type), elsewhere a plain list (EndpointSlice endpoints). Lists not named here are
/// atomic, as upstream's default.
/// </remarks>
internal static class ListSchema
{
    private static readonly Dictionary<string, ListType> ByName = new()
    {
        ["containers"] = ListType.Map("name"),
        ["initContainers"] = ListType.Map("name"),
        ["ephemeralContainers"] = ListType.Map("name"),
        ["env"] = ListType.Map("name"),
        ["volumes"] = ListType.Map("name"),
        ["volumeMounts"] = ListType.Map("mountPath"),
        ["volumeDevices"] = ListType.Map("devicePath"),
        ["imagePullSecrets"] = ListType.Map("name"),
        ["conditions"] = ListType.Map("type"),
        ["ownerReferences"] = ListType.Map("uid"),
        ["hostAliases"] = ListType.Map("ip"),
        ["topologySpreadConstraints"] = ListType.Map("topologyKey", "whenUnsatisfiable"),
        ["resourceClaims"] = ListType.Map("name"),
        ["schedulingGates"] = ListType.Map("name"),
        ["podIPs"] = ListType.Map("ip"),
        ["hostIPs"] = ListType.Map("ip"),
        ["finalizers"] = ListType.Set,
        ["podCIDRs"] = ListType.Set,
    };

    private static readonly HashSet<string> ContainerLists = ["containers", "initContainers", "ephemeralContainers"];

    /// <summary>Fields whose map value is replaced whole rather than merged (atomic structs of the API).</summary>
    private static readonly HashSet<string> AtomicMaps = ["selector", "podSelector", "namespaceSelector", "nodeSelector", "labelSelector"];

    public static ListType Of(IReadOnlyList<string> path)
    {
        if (path.Count == 0)
        {
            return ListType.Atomic;
        }
        var field = path[^1];
        var parent = path.Count > 1 ? path[^2] : null;
        return field switch
        {
            "ports" when parent is not null && ContainerLists.Contains(parent) => ListType.Map("containerPort", "protocol"),
            "ports" when path.Count == 2 && parent == "spec" => ListType.Map("port", "protocol"),
            "ports" => ListType.Atomic,
            "addresses" when path.Count == 2 && parent == "status" => ListType.Map("type"),
            "addresses" => ListType.Atomic,
            _ => ByName.GetValueOrDefault(field, ListType.Atomic),
        };
    }

    /// <summary>
    /// True for a map that server-side apply owns as one value: label selectors (a Deployment's,
    /// a NetworkPolicy's peers), and the Service and pod node selectors, which are atomic maps upstream.
    /// </summary>
    public static bool IsAtomicMap(IReadOnlyList<string> path) => path.Count > 0 && AtomicMaps.Contains(path[^1]);

    /// <summary>
    /// True for the structs upstream tags retainKeys, whose patch lists the keys to keep: a
    /// Deployment's spec.strategy, and each item of a pod's volumes (<c>volumes.[]</c>).
    /// </summary>
    public static bool IsRetainKeys(IReadOnlyList<string> path) =>
        path is ["spec", "strategy"] || path.Count >= 2 && path[^1] == "[]" && path[^2] == "volumes";
}
