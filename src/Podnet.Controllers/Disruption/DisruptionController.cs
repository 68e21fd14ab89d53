using System.Net;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.Disruption;

/// <summary>
/// disruption: each PodDisruptionBudget's status from its pods (<see cref="DisruptionCalc"/>),
/// which the API server's eviction subresource reads and charges.
/// </summary>
/// <remarks>
/// The status is written with a full replace carrying the resourceVersion the cache had, so an
/// eviction that charged the budget meanwhile makes the write fail with 409 instead of being
/// undone; the next sync starts from the charged status.
/// </remarks>
internal sealed class DisruptionController : QueueController
{
    private readonly IKubernetes _client;

    public DisruptionController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        WakeOn(informers.PodDisruptionBudgets);
        WakeOn(informers.Pods);
        WakeOn(informers.ReplicaSets);
        WakeOn(informers.Deployments);
        WakeOn(informers.StatefulSets);
    }

    public override string Name => "disruption";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var budgets = Informers.PodDisruptionBudgets.Cache.List();
        if (budgets.Count == 0)
        {
            return;
        }
        var pods = Informers.Pods.Cache.List();
        var scales = Scales();
        var now = DateTime.UtcNow;
        var recheck = TimeSpan.MaxValue;
        foreach (var budget in budgets)
        {
            var status = DisruptionCalc.Calc(budget, pods, pod => ScaleOf(pod, scales), now);
            foreach (var when in status.DisruptedPods?.Values ?? [])
            {
                var left = (when ?? now) + DisruptionCalc.DeletionTimeout - now;
                recheck = left < recheck ? left : recheck;
            }
            if (!DisruptionCalc.Differs(budget.Status, status))
            {
                continue;
            }
            budget.Status = status;
            await Writes.TolerateAsync(
                () => _client.PolicyV1.ReplaceNamespacedPodDisruptionBudgetStatusAsync(budget, budget.Metadata.Name, budget.Metadata.NamespaceProperty, cancellationToken: cancellationToken),
                HttpStatusCode.Conflict, HttpStatusCode.NotFound).ConfigureAwait(false);
        }
        if (recheck != TimeSpan.MaxValue)
        {
            // A disrupted pod whose deletion never shows counts as healthy again after the timeout.
            _ = Task.Delay(recheck + TimeSpan.FromSeconds(1), cancellationToken).ContinueWith(_ => Wake(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    /// <summary>Every scalable controller by UID: its own UID and replicas, a ReplicaSet's standing for its Deployment's.</summary>
    private Dictionary<string, ScaleOf> Scales()
    {
        var scales = new Dictionary<string, ScaleOf>();
        foreach (var set in Informers.StatefulSets.Cache.List())
        {
            scales[set.Metadata.Uid] = new ScaleOf(set.Metadata.Uid, set.Spec.Replicas ?? 1);
        }
        var deployments = Informers.Deployments.Cache.List().ToDictionary(d => d.Metadata.Uid);
        foreach (var rs in Informers.ReplicaSets.Cache.List())
        {
            var owner = rs.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "Deployment");
            scales[rs.Metadata.Uid] = owner is not null && deployments.TryGetValue(owner.Uid, out var deployment)
                ? new ScaleOf(deployment.Metadata.Uid, deployment.Spec.Replicas ?? 1)
                : new ScaleOf(rs.Metadata.Uid, rs.Spec.Replicas ?? 1);
        }
        return scales;
    }

    private static ScaleOf? ScaleOf(V1Pod pod, Dictionary<string, ScaleOf> scales) =>
        pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true) is { } owner ? scales.GetValueOrDefault(owner.Uid) : null;
}
