using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.Namespaces;

/// <summary>
/// namespaces: a namespace being deleted (deletionTimestamp set) has its contents deleted, and
/// once nothing is left its "kubernetes" finalizer is removed through the finalize
/// subresource, after which the API server removes the namespace, as upstream's namespace
/// controller does.
/// </summary>
internal sealed class NamespaceController : QueueController
{
    public const string Finalizer = "kubernetes";

    private readonly IKubernetes _client;
    private readonly (string Kind, Func<string, CancellationToken, Task> DeleteAll, Func<string, CancellationToken, Task<int>> Count)[] _kinds;

    public NamespaceController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        WakeOn(informers.Namespaces);
        var core = client.CoreV1;
        var apps = client.AppsV1;
        _kinds =
        [
            ("deployments", (ns, ct) => apps.DeleteCollectionNamespacedDeploymentAsync(ns, cancellationToken: ct), async (ns, ct) => (await apps.ListNamespacedDeploymentAsync(ns, cancellationToken: ct)).Items.Count),
            ("replicasets", (ns, ct) => apps.DeleteCollectionNamespacedReplicaSetAsync(ns, cancellationToken: ct), async (ns, ct) => (await apps.ListNamespacedReplicaSetAsync(ns, cancellationToken: ct)).Items.Count),
            ("pods", (ns, ct) => core.DeleteCollectionNamespacedPodAsync(ns, cancellationToken: ct), async (ns, ct) => (await core.ListNamespacedPodAsync(ns, cancellationToken: ct)).Items.Count),
            ("services", (ns, ct) => core.DeleteCollectionNamespacedServiceAsync(ns, cancellationToken: ct), async (ns, ct) => (await core.ListNamespacedServiceAsync(ns, cancellationToken: ct)).Items.Count),
            ("endpoints", (ns, ct) => core.DeleteCollectionNamespacedEndpointsAsync(ns, cancellationToken: ct), async (ns, ct) => (await core.ListNamespacedEndpointsAsync(ns, cancellationToken: ct)).Items.Count),
            ("endpointslices", (ns, ct) => client.DiscoveryV1.DeleteCollectionNamespacedEndpointSliceAsync(ns, cancellationToken: ct), async (ns, ct) => (await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, cancellationToken: ct)).Items.Count),
            ("configmaps", (ns, ct) => core.DeleteCollectionNamespacedConfigMapAsync(ns, cancellationToken: ct), async (ns, ct) => (await core.ListNamespacedConfigMapAsync(ns, cancellationToken: ct)).Items.Count),
            ("secrets", (ns, ct) => core.DeleteCollectionNamespacedSecretAsync(ns, cancellationToken: ct), async (ns, ct) => (await core.ListNamespacedSecretAsync(ns, cancellationToken: ct)).Items.Count),
            ("serviceaccounts", (ns, ct) => core.DeleteCollectionNamespacedServiceAccountAsync(ns, cancellationToken: ct), async (ns, ct) => (await core.ListNamespacedServiceAccountAsync(ns, cancellationToken: ct)).Items.Count),
            ("networkpolicies", (ns, ct) => client.NetworkingV1.DeleteCollectionNamespacedNetworkPolicyAsync(ns, cancellationToken: ct), async (ns, ct) => (await client.NetworkingV1.ListNamespacedNetworkPolicyAsync(ns, cancellationToken: ct)).Items.Count),
            ("roles", (ns, ct) => client.RbacAuthorizationV1.DeleteCollectionNamespacedRoleAsync(ns, cancellationToken: ct), async (ns, ct) => (await client.RbacAuthorizationV1.ListNamespacedRoleAsync(ns, cancellationToken: ct)).Items.Count),
            ("rolebindings", (ns, ct) => client.RbacAuthorizationV1.DeleteCollectionNamespacedRoleBindingAsync(ns, cancellationToken: ct), async (ns, ct) => (await client.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(ns, cancellationToken: ct)).Items.Count),
            ("events", (ns, ct) => core.DeleteCollectionNamespacedEventAsync(ns, cancellationToken: ct), async (ns, ct) => (await core.ListNamespacedEventAsync(ns, cancellationToken: ct)).Items.Count),
        ];
    }

    public override string Name => "namespaces";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var waiting = false;
        foreach (var ns in Informers.Namespaces.Cache.List().Where(n => n.Metadata.DeletionTimestamp is not null))
        {
            if (ns.Spec?.Finalizers?.Contains(Finalizer) != true)
            {
                continue;
            }
            var left = 0;
            foreach (var (_, deleteAll, count) in _kinds)
            {
                await Served(() => deleteAll(ns.Metadata.Name, cancellationToken)).ConfigureAwait(false);
                await Served(async () => left += await count(ns.Metadata.Name, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            }
            if (left > 0)
            {
                waiting = true;
                continue;
            }
            var finalized = new V1Namespace
            {
                Metadata = new V1ObjectMeta { Name = ns.Metadata.Name, ResourceVersion = ns.Metadata.ResourceVersion },
                Spec = new V1NamespaceSpec { Finalizers = ns.Spec.Finalizers.Where(f => f != Finalizer).ToList() },
            };
            await _client.CoreV1.ReplaceNamespaceFinalizeAsync(finalized, ns.Metadata.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        if (waiting)
        {
            // Pods may take their grace period to go: look again soon.
            _ = Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ContinueWith(_ => Wake(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    /// <summary>Runs a call, treating a kind this API server does not serve (404, 405) as empty.</summary>
    private static async Task Served(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
        }
    }
}
