using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Projections;
using Podnet.Controllers.Runtime;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Policy;

namespace Podnet.Agent.Policy;

/// <summary>
/// NetworkPolicy and ClusterNetworkPolicy on one node: every pod, namespace and policy of the cluster in (a peer may
/// run anywhere), the node's <c>inet podnet-policy</c> table out, through the shared
/// <see cref="SyncLoop"/>. Each sync compiles the whole plan (pure, cheap next to a
/// transaction) and applies only its difference from the committed one; after a failure the
/// next sync rebuilds the table.
/// </summary>
/// <remarks>
/// A pod is isolated before its containers start: the pod runtime calls
/// <see cref="BeforeContainersStart"/> with the addresses CNI just gave it, before the pod's
/// status (and so the informer) has them; that call syncs at once, so the pod's map elements
/// are in the kernel when its first process runs. Syncs from the loop and from that call are
/// serialized by one lock.
/// </remarks>
public sealed class PolicyEngine
{
    private static readonly TimeSpan s_startWait = TimeSpan.FromSeconds(10);

    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1Namespace> _namespaces;
    private readonly Informer<V1NetworkPolicy> _policies;
    private readonly Informer<ClusterNetworkPolicyObject> _clusterPolicies;
    private readonly INftRunner _nft;
    private readonly PolicySyncer _syncer = new();
    private readonly SyncLoop _loop;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, IReadOnlyList<IPAddress>> _starting = new(StringComparer.Ordinal);
    private volatile IReadOnlyDictionary<IPAddress, PodInfo> _byAddress = new Dictionary<IPAddress, PodInfo>();

    public PolicyEngine(AgentOptions options, Informer<V1Pod> pods, Informer<V1Namespace> namespaces, Informer<V1NetworkPolicy> policies, Informer<ClusterNetworkPolicyObject> clusterPolicies, INftRunner nft)
    {
        _pods = pods;
        _clusterPolicies = clusterPolicies;
        _namespaces = namespaces;
        _policies = policies;
        _nft = nft;
        var families = options.ClusterCidrs.Select(c => c.BaseAddress.AddressFamily).Distinct().DefaultIfEmpty(AddressFamily.InterNetwork).ToArray();
        Node = new PolicyNode(options.NodeName, families, options.PolicyDeny);
        _loop = new SyncLoop("policy", (_, _) =>
        {
            Sync();
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(10))
        {
            Log = options.Log,
        };
        _loop.WakeOn(pods).WakeOn(namespaces).WakeOn(policies).WakeOn(clusterPolicies);
    }

    public PolicyNode Node { get; }

    /// <summary>Syncs committed so far, for health and tests.</summary>
    public long Syncs => _loop.Syncs;

    /// <summary>The plan the kernel holds, for explanations (null until the first sync).</summary>
    public PolicyPlan? Committed
    {
        get
        {
            lock (_gate)
            {
                return _syncer.Committed;
            }
        }
    }

    public Task RunAsync(CancellationToken token) => _loop.RunAsync(token);

    /// <summary>The pod with <paramref name="address"/> as of the last sync, if any.</summary>
    public PodInfo? PodAt(IPAddress address) => _byAddress.GetValueOrDefault(address);

    /// <summary>
    /// The pod runtime's pre-start hook: the pod has its addresses and no process yet. Syncs
    /// with those addresses, so the pod is isolated (if any policy selects it) and a peer of
    /// the policies that select it before anything in it runs; throws (the start fails and is
    /// retried) while the informers have not listed.
    /// </summary>
    public void BeforeContainersStart(V1Pod pod, IReadOnlyList<string> addresses)
    {
        if (!Task.WaitAll([_pods.WaitForSyncAsync(default), _namespaces.WaitForSyncAsync(default), _policies.WaitForSyncAsync(default), _clusterPolicies.WaitForSyncAsync(default)], s_startWait))
        {
            throw new InvalidOperationException("network policies are not known yet: the pod is not started unprotected");
        }
        _starting[pod.Metadata.Uid] = addresses.Select(a => IPAddress.TryParse(a, out var ip) ? ip : null).OfType<IPAddress>().ToArray();
        Sync();
    }

    public PolicySnapshot Snapshot()
    {
        var pods = new List<PodInfo>();
        foreach (var pod in _pods.Cache.List())
        {
            var info = ObjectProjection.ToPodInfo(pod);
            if (_starting.TryGetValue(info.Uid, out var addresses))
            {
                if (info.Addresses.Count == 0)
                {
                    info = info with { Addresses = addresses };
                }
                else
                {
                    _starting.TryRemove(info.Uid, out _);
                }
            }
            pods.Add(info);
        }
        foreach (var gone in _starting.Keys.Except(pods.Select(p => p.Uid)).ToArray())
        {
            _starting.TryRemove(gone, out _);
        }
        return new PolicySnapshot(
            _policies.Cache.List().Select(ObjectProjection.ToNetworkPolicyInfo).ToArray(),
            pods,
            _namespaces.Cache.List().Select(ObjectProjection.ToNamespaceInfo).ToArray(),
            _clusterPolicies.Cache.List().Select(p => ObjectProjection.ToClusterNetworkPolicyInfo(p.Metadata.Name ?? "", p.Spec)).ToArray());
    }

    private void Sync()
    {
        lock (_gate)
        {
            var snapshot = Snapshot();
            _byAddress = snapshot.Pods.Where(p => !p.HostNetwork && !p.Finished).SelectMany(p => p.Addresses.Select(a => (a, p)))
                .DistinctBy(x => x.a).ToDictionary(x => x.a, x => x.p);
            var plan = PolicyCompiler.Compile(snapshot, Node);
            var change = _syncer.Plan(plan);
            if (change.Transaction.IsEmpty)
            {
                change.Commit();
                return;
            }
            try
            {
                _nft.Apply(change.Transaction);
            }
            catch
            {
                _syncer.Invalidate();
                throw;
            }
            change.Commit();
        }
    }
}
