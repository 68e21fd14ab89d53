using k8s;
using k8s.Models;

namespace Podnet.Controllers.Informers;

/// <summary>
/// List/watch pairs over KubernetesClient for the resources the controllers and agents watch,
/// across all namespaces. Watches ask for bookmarks and end after <see cref="WatchTimeoutSeconds"/>,
/// as client-go's reflector does, so connections are renewed regularly.
/// </summary>
public static class ListWatches
{
    public const int WatchTimeoutSeconds = 300;

    public static IListWatch<V1Pod> Pods(IKubernetes client, string? fieldSelector = null) => new KubernetesListWatch<V1Pod, V1PodList>(
        ct => client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: fieldSelector, cancellationToken: ct),
        (rv, onError, ct) => client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: fieldSelector, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1Node> Nodes(IKubernetes client) => new KubernetesListWatch<V1Node, V1NodeList>(
        ct => client.CoreV1.ListNodeAsync(cancellationToken: ct),
        (rv, onError, ct) => client.CoreV1.WatchListNodeAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1Namespace> Namespaces(IKubernetes client) => new KubernetesListWatch<V1Namespace, V1NamespaceList>(
        ct => client.CoreV1.ListNamespaceAsync(cancellationToken: ct),
        (rv, onError, ct) => client.CoreV1.WatchListNamespaceAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1Service> Services(IKubernetes client) => new KubernetesListWatch<V1Service, V1ServiceList>(
        ct => client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1Endpoints> Endpoints(IKubernetes client) => new KubernetesListWatch<V1Endpoints, V1EndpointsList>(
        ct => client.CoreV1.ListEndpointsForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.CoreV1.WatchListEndpointsForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1EndpointSlice> EndpointSlices(IKubernetes client) => new KubernetesListWatch<V1EndpointSlice, V1EndpointSliceList>(
        ct => client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1Deployment> Deployments(IKubernetes client) => new KubernetesListWatch<V1Deployment, V1DeploymentList>(
        ct => client.AppsV1.ListDeploymentForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.AppsV1.WatchListDeploymentForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1ReplicaSet> ReplicaSets(IKubernetes client) => new KubernetesListWatch<V1ReplicaSet, V1ReplicaSetList>(
        ct => client.AppsV1.ListReplicaSetForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.AppsV1.WatchListReplicaSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1StatefulSet> StatefulSets(IKubernetes client) => new KubernetesListWatch<V1StatefulSet, V1StatefulSetList>(
        ct => client.AppsV1.ListStatefulSetForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.AppsV1.WatchListStatefulSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1ControllerRevision> ControllerRevisions(IKubernetes client) => new KubernetesListWatch<V1ControllerRevision, V1ControllerRevisionList>(
        ct => client.AppsV1.ListControllerRevisionForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.AppsV1.WatchListControllerRevisionForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1PodDisruptionBudget> PodDisruptionBudgets(IKubernetes client) => new KubernetesListWatch<V1PodDisruptionBudget, V1PodDisruptionBudgetList>(
        ct => client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.PolicyV1.WatchListPodDisruptionBudgetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1NetworkPolicy> NetworkPolicies(IKubernetes client) => new KubernetesListWatch<V1NetworkPolicy, V1NetworkPolicyList>(
        ct => client.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.NetworkingV1.WatchListNetworkPolicyForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1DaemonSet> DaemonSets(IKubernetes client) => new KubernetesListWatch<V1DaemonSet, V1DaemonSetList>(
        ct => client.AppsV1.ListDaemonSetForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.AppsV1.WatchListDaemonSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1ServiceCIDR> ServiceCidrs(IKubernetes client) => new KubernetesListWatch<V1ServiceCIDR, V1ServiceCIDRList>(
        ct => client.NetworkingV1.ListServiceCIDRAsync(cancellationToken: ct),
        (rv, onError, ct) => client.NetworkingV1.WatchListServiceCIDRAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public static IListWatch<V1ServiceAccount> ServiceAccounts(IKubernetes client) => new KubernetesListWatch<V1ServiceAccount, V1ServiceAccountList>(
        ct => client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: ct),
        (rv, onError, ct) => client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    /// <summary>The ConfigMaps of one name in every namespace (a field selector on metadata.name).</summary>
    public static IListWatch<V1ConfigMap> ConfigMapsNamed(IKubernetes client, string name) => new KubernetesListWatch<V1ConfigMap, V1ConfigMapList>(
        ct => client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: $"metadata.name={name}", cancellationToken: ct),
        (rv, onError, ct) => client.CoreV1.WatchListConfigMapForAllNamespacesAsync(fieldSelector: $"metadata.name={name}", allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    /// <summary>The nodes' heartbeat Leases, in kube-node-lease only.</summary>
    public static IListWatch<V1Lease> NodeLeases(IKubernetes client) => new KubernetesListWatch<V1Lease, V1LeaseList>(
        ct => client.CoordinationV1.ListNamespacedLeaseAsync(NodeLeaseNamespace, cancellationToken: ct),
        (rv, onError, ct) => client.CoordinationV1.WatchListNamespacedLeaseAsync(NodeLeaseNamespace, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: WatchTimeoutSeconds, onError: onError, cancellationToken: ct));

    public const string NodeLeaseNamespace = "kube-node-lease";
}
