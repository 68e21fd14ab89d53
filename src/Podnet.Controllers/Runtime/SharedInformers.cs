using k8s;
using k8s.Models;
using Podnet.Controllers.Informers;

namespace Podnet.Controllers.Runtime;

/// <summary>
/// One informer per resource, shared by every controller in the process and made on first
/// use. Controllers take the informers they need (and add handlers) before <see cref="RunAsync"/>.
/// </summary>
public sealed class SharedInformers
{
    public const string PodsByNode = "node";

    private readonly IKubernetes _client;
    private readonly InformerOptions _options;
    private readonly List<Func<CancellationToken, Task>> _runs = [];
    private readonly List<Func<CancellationToken, Task>> _syncs = [];
    private readonly Dictionary<Type, object> _informers = [];

    public SharedInformers(IKubernetes client, InformerOptions? options = null)
    {
        _client = client;
        _options = options ?? new InformerOptions();
    }

    public Informer<V1Pod> Pods => Get(() =>
    {
        var informer = new Informer<V1Pod>(ListWatches.Pods(_client), _options);
        informer.Cache.AddIndex(PodsByNode, p => p.Spec?.NodeName is { Length: > 0 } n ? [n] : []);
        return informer;
    });

    public Informer<V1Node> Nodes => Get(() => new Informer<V1Node>(ListWatches.Nodes(_client), _options));

    public Informer<V1Namespace> Namespaces => Get(() => new Informer<V1Namespace>(ListWatches.Namespaces(_client), _options));

    public Informer<V1Service> Services => Get(() => new Informer<V1Service>(ListWatches.Services(_client), _options));

    public Informer<V1Endpoints> Endpoints => Get(() => new Informer<V1Endpoints>(ListWatches.Endpoints(_client), _options));

    public Informer<V1EndpointSlice> EndpointSlices => Get(() => new Informer<V1EndpointSlice>(ListWatches.EndpointSlices(_client), _options));

    public Informer<V1Deployment> Deployments => Get(() => new Informer<V1Deployment>(ListWatches.Deployments(_client), _options));

    public Informer<V1ReplicaSet> ReplicaSets => Get(() => new Informer<V1ReplicaSet>(ListWatches.ReplicaSets(_client), _options));

    public Informer<V1StatefulSet> StatefulSets => Get(() => new Informer<V1StatefulSet>(ListWatches.StatefulSets(_client), _options));

    public Informer<V1ControllerRevision> ControllerRevisions => Get(() => new Informer<V1ControllerRevision>(ListWatches.ControllerRevisions(_client), _options));

    public Informer<V1PodDisruptionBudget> PodDisruptionBudgets => Get(() => new Informer<V1PodDisruptionBudget>(ListWatches.PodDisruptionBudgets(_client), _options));

    public Informer<V1DaemonSet> DaemonSets => Get(() => new Informer<V1DaemonSet>(ListWatches.DaemonSets(_client), _options));

    public Informer<V1ServiceAccount> ServiceAccounts => Get(() => new Informer<V1ServiceAccount>(ListWatches.ServiceAccounts(_client), _options));

    /// <summary>The ConfigMaps named kube-root-ca.crt, in every namespace (no other ConfigMap is cached).</summary>
    public Informer<V1ConfigMap> RootCaConfigMaps => Get(() => new Informer<V1ConfigMap>(ListWatches.ConfigMapsNamed(_client, Podnet.Controllers.ServiceAccounts.NamespaceDefaultsCalc.RootCaName), _options));

    public Informer<V1Lease> NodeLeases => Get(() => new Informer<V1Lease>(ListWatches.NodeLeases(_client), _options));

    /// <summary>Runs every informer made so far until cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        lock (_informers)
        {
            return Task.WhenAll(_runs.Select(run => Task.Run(() => run(cancellationToken), cancellationToken)));
        }
    }

    /// <summary>Completes when every informer made so far has listed once.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken)
    {
        lock (_informers)
        {
            return Task.WhenAll(_syncs.Select(sync => sync(cancellationToken)));
        }
    }

    private Informer<T> Get<T>(Func<Informer<T>> make)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_informers)
        {
            if (!_informers.TryGetValue(typeof(T), out var existing))
            {
                var informer = make();
                _informers[typeof(T)] = existing = informer;
                _runs.Add(informer.RunAsync);
                _syncs.Add(informer.WaitForSyncAsync);
            }
            return (Informer<T>)existing;
        }
    }
}
