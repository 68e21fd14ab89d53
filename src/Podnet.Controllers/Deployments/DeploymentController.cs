using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.Deployments;

/// <summary>
/// deployments: Deployments → ReplicaSets (one rollout step per sync) and ReplicaSets → pods,
/// with both statuses.
/// </summary>
/// <remarks>
/// Pods a ReplicaSet created or deleted are expected until the cache shows them (or the
/// expectation times out); that ReplicaSet is not synced meanwhile, so a stale cache never
/// makes it create or delete twice. ReplicaSet names are deterministic, so a repeated create
/// answers 409 and is ignored.
/// </remarks>
internal sealed class DeploymentController : QueueController
{
    private readonly IKubernetes _client;
    private readonly Expectations<(HashSet<string> Created, HashSet<string> Deleted)> _expect;

    public DeploymentController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _expect = new Expectations<(HashSet<string>, HashSet<string>)>(options.ExpectationTimeout);
        WakeOn(informers.Deployments);
        WakeOn(informers.ReplicaSets);
        WakeOn(informers.Pods);
    }

    public override string Name => "deployments";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var pods = Informers.Pods.Cache.List();
        var replicaSets = Informers.ReplicaSets.Cache.List();
        foreach (var deployment in Informers.Deployments.Cache.List())
        {
            var ns = deployment.Metadata.NamespaceProperty;
            var plan = DeploymentCalc.Calc(deployment, replicaSets.Where(r => r.Metadata.NamespaceProperty == ns), pods.Where(p => p.Metadata.NamespaceProperty == ns));
            await ApplyAsync(deployment, plan, cancellationToken).ConfigureAwait(false);
        }
        var podNames = pods.Select(p => PodState.Key(p.Metadata)).ToHashSet();
        _expect.Prune((_, e) => e.Created.All(podNames.Contains) && !e.Deleted.Any(podNames.Contains));
        foreach (var replicaSet in replicaSets)
        {
            if (_expect.TryGet(PodState.Key(replicaSet.Metadata), out _))
            {
                continue;
            }
            var ns = replicaSet.Metadata.NamespaceProperty;
            var plan = ReplicaSetCalc.Calc(replicaSet, pods.Where(p => p.Metadata.NamespaceProperty == ns), DateTime.UtcNow);
            await ApplyAsync(replicaSet, plan, cancellationToken).ConfigureAwait(false);
        }
        if (_expect.Count > 0)
        {
            WakeAfter(Options.ExpectationTimeout, cancellationToken);
        }
        // Ready pods become available only after minReadySeconds: look again then, as upstream requeues.
        var waitForAvailable = replicaSets
            .Where(rs => rs.Spec.MinReadySeconds > 0 && (rs.Status?.ReadyReplicas ?? 0) > (rs.Status?.AvailableReplicas ?? 0))
            .Select(rs => rs.Spec.MinReadySeconds!.Value).DefaultIfEmpty(0).Min();
        if (waitForAvailable > 0)
        {
            WakeAfter(TimeSpan.FromSeconds(waitForAvailable), cancellationToken);
        }
    }

    /// <summary>Rewrites a pod's ownerReferences, failing with 409 if the pod changed meanwhile.</summary>
    private Task PatchOwnersAsync(V1Pod pod, IEnumerable<V1OwnerReference> refs, CancellationToken ct)
    {
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = pod.Metadata.ResourceVersion,
                ["ownerReferences"] = JsonNode.Parse(KubernetesJson.Serialize(refs.ToList())),
            },
        };
        return _client.CoreV1.PatchNamespacedPodAsync(Writes.Merge(patch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: ct);
    }

    private void WakeAfter(TimeSpan delay, CancellationToken cancellationToken) =>
        _ = Task.Delay(delay, cancellationToken).ContinueWith(_ => Wake(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    private async Task ApplyAsync(V1Deployment deployment, DeploymentPlan plan, CancellationToken ct)
    {
        var ns = deployment.Metadata.NamespaceProperty;
        if (plan.Create is { } created)
        {
            await Writes.TolerateAsync(() => _client.AppsV1.CreateNamespacedReplicaSetAsync(created, ns, cancellationToken: ct), HttpStatusCode.Conflict).ConfigureAwait(false);
        }
        foreach (var (name, replicas) in plan.Scale)
        {
            var annotations = new JsonObject
            {
                [ProportionalScale.DesiredReplicasAnnotation] = plan.DesiredReplicas.ToString(CultureInfo.InvariantCulture),
                [ProportionalScale.MaxReplicasAnnotation] = plan.MaxReplicas.ToString(CultureInfo.InvariantCulture),
            };
            var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = annotations }, ["spec"] = new JsonObject { ["replicas"] = replicas } };
            await _client.AppsV1.PatchNamespacedReplicaSetAsync(Writes.Merge(patch), name, ns, cancellationToken: ct).ConfigureAwait(false);
        }
        foreach (var name in plan.Delete)
        {
            await Writes.TolerateAsync(() => _client.AppsV1.DeleteNamespacedReplicaSetAsync(name, ns, cancellationToken: ct), HttpStatusCode.NotFound).ConfigureAwait(false);
        }
        if (DeploymentStatusCalc.Differs(deployment.Status, plan.Status))
        {
            var patch = new JsonObject { ["status"] = JsonNode.Parse(KubernetesJson.Serialize(plan.Status)) };
            await _client.AppsV1.PatchNamespacedDeploymentStatusAsync(Writes.Merge(patch), deployment.Metadata.Name, ns, cancellationToken: ct).ConfigureAwait(false);
        }
    }

    private async Task ApplyAsync(V1ReplicaSet replicaSet, ReplicaSetPlan plan, CancellationToken ct)
    {
        var ns = replicaSet.Metadata.NamespaceProperty;
        foreach (var pod in plan.Adopt)
        {
            var refs = (pod.Metadata.OwnerReferences ?? []).Append(Owners.ControllerRef("apps/v1", "ReplicaSet", replicaSet.Metadata));
            await PatchOwnersAsync(pod, refs, ct).ConfigureAwait(false);
        }
        foreach (var pod in plan.Release)
        {
            await PatchOwnersAsync(pod, pod.Metadata.OwnerReferences.Where(o => o.Uid != replicaSet.Metadata.Uid), ct).ConfigureAwait(false);
        }
        var expectation = (Created: new HashSet<string>(), Deleted: new HashSet<string>());
        try
        {
            await Writes.SlowStartAsync(plan.Create.ToList(), async pod =>
            {
                var made = await _client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: ct).ConfigureAwait(false);
                lock (expectation.Created)
                {
                    expectation.Created.Add(PodState.Key(made.Metadata));
                }
            }).ConfigureAwait(false);
            await Writes.SlowStartAsync(plan.Delete.ToList(), async pod =>
            {
                await Writes.TolerateAsync(() => _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, ns, cancellationToken: ct), HttpStatusCode.NotFound).ConfigureAwait(false);
                lock (expectation.Deleted)
                {
                    expectation.Deleted.Add(PodState.Key(pod.Metadata));
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            // What was written is expected even when a later write failed.
            if (expectation.Created.Count + expectation.Deleted.Count > 0)
            {
                _expect.Set(PodState.Key(replicaSet.Metadata), expectation);
            }
        }
        if (ReplicaSetCalc.StatusDiffers(replicaSet.Status, plan.Status))
        {
            var patch = new JsonObject { ["status"] = JsonNode.Parse(KubernetesJson.Serialize(plan.Status)) };
            await _client.AppsV1.PatchNamespacedReplicaSetStatusAsync(Writes.Merge(patch), replicaSet.Metadata.Name, ns, cancellationToken: ct).ConfigureAwait(false);
        }
    }
}
