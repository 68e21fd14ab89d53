using k8s.Models;

namespace Podnet.Controllers.ServiceAccounts;

/// <summary>One write that gives a namespace what every namespace has.</summary>
public abstract record NamespaceDefaultsAction(string Namespace)
{
    /// <summary>The namespace lacks its `default` ServiceAccount.</summary>
    public sealed record CreateServiceAccount(string Namespace) : NamespaceDefaultsAction(Namespace);

    /// <summary>The namespace lacks `kube-root-ca.crt`.</summary>
    public sealed record CreateRootCa(string Namespace) : NamespaceDefaultsAction(Namespace);

    /// <summary>`kube-root-ca.crt` holds another CA than the cluster's (or none).</summary>
    public sealed record UpdateRootCa(string Namespace, string ResourceVersion) : NamespaceDefaultsAction(Namespace);
}

/// <summary>
/// What kube-controller-manager's serviceaccount and root-ca-cert-publisher controllers keep
/// true, as a pure function: every namespace that is not being deleted has a ServiceAccount
/// named `default` (without which the ServiceAccount admission refuses its pods) and a ConfigMap
/// `kube-root-ca.crt` whose ca.crt is the cluster's CA (what projected service-account volumes
/// mount). Only what is missing or wrong is written; other ServiceAccounts and ConfigMaps are
/// never touched.
/// </summary>
public static class NamespaceDefaultsCalc
{
    public const string ServiceAccountName = "default";
    public const string RootCaName = "kube-root-ca.crt";
    public const string RootCaKey = "ca.crt";

    public static IReadOnlyList<NamespaceDefaultsAction> ServiceAccounts(IEnumerable<V1Namespace> namespaces, IEnumerable<V1ServiceAccount> accounts)
    {
        var have = accounts.Where(a => a.Metadata.Name == ServiceAccountName).Select(a => a.Metadata.NamespaceProperty).ToHashSet(StringComparer.Ordinal);
        return Active(namespaces).Where(ns => !have.Contains(ns)).Select(ns => (NamespaceDefaultsAction)new NamespaceDefaultsAction.CreateServiceAccount(ns)).ToArray();
    }

    public static IReadOnlyList<NamespaceDefaultsAction> RootCa(IEnumerable<V1Namespace> namespaces, IEnumerable<V1ConfigMap> configMaps, string caPem)
    {
        var have = configMaps.Where(c => c.Metadata.Name == RootCaName).ToDictionary(c => c.Metadata.NamespaceProperty, StringComparer.Ordinal);
        var actions = new List<NamespaceDefaultsAction>();
        foreach (var ns in Active(namespaces))
        {
            if (!have.TryGetValue(ns, out var current))
            {
                actions.Add(new NamespaceDefaultsAction.CreateRootCa(ns));
            }
            else if (current.Data?.TryGetValue(RootCaKey, out var ca) != true || ca != caPem)
            {
                actions.Add(new NamespaceDefaultsAction.UpdateRootCa(ns, current.Metadata.ResourceVersion));
            }
        }
        return actions;
    }

    private static IEnumerable<string> Active(IEnumerable<V1Namespace> namespaces) =>
        namespaces.Where(n => n.Metadata.DeletionTimestamp is null && n.Status?.Phase != "Terminating").Select(n => n.Metadata.Name).Order(StringComparer.Ordinal);
}
