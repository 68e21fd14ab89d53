using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Auth.Tokens;

/// <summary>
/// kube-apiserver's ServiceAccount admission on pod creation: the pod's service account
/// (defaulted to `default` by the defaults) must exist, else 403
/// `pods "p" is forbidden: error looking up service account NS/NAME: serviceaccount "NAME" not found`.
/// The `default` ServiceAccount of every namespace is made with the namespace and kept by the
/// sweeper (Bootstrap.EnsureNamespaceDefaults), as kube-controller-manager's serviceaccount
/// controller.
/// </summary>
internal static class ServiceAccountAdmission
{
    /// <summary>The issuer kubeadm configures (--service-account-issuer), and so the API's audience.</summary>
    public const string DefaultIssuer = "https://kubernetes.default.svc.cluster.local";

    public static void Admit(StoreTransaction txn, ResourceInfo r, JsonObject obj, JsonObject? old)
    {
        if (r != ResourceCatalog.Pods || old is not null)
        {
            return;
        }
        var ns = obj.Namespace();
        var account = (string?)obj["spec"]?["serviceAccountName"] is { Length: > 0 } name ? name : "default";
        if (txn.Get(ResourceCatalog.ServiceAccounts.Key, ns, account) is null)
        {
            throw new ApiException(403, "Forbidden", $"pods \"{obj.Name()}\" is forbidden: error looking up service account {ns}/{account}: serviceaccount \"{account}\" not found",
                new JsonObject { ["name"] = obj.Name(), ["kind"] = "pods" });
        }
    }
}
