using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.StatefulSets;

/// <summary>
/// statefulsets: StatefulSets → ControllerRevisions and ordinal pods (<see cref="StatefulSetCalc"/>),
/// with the status `kubectl rollout status` reads.
/// </summary>
/// <remarks>
/// Pods a set created or deleted are expected until the cache shows them (or the expectation
/// times out); the set is not synced meanwhile, so a stale cache never makes OrderedReady step
/// twice. Pod and revision names are deterministic, so a repeated create answers 409 and is ignored.
/// </remarks>
internal sealed class StatefulSetController : QueueController
{
    private readonly IKubernetes _client;
    private readonly Expectations<(HashSet<string> Created, HashSet<string> Deleted)> _expect;

    public StatefulSetController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _expect = new Expectations<(HashSet<string>, HashSet<string>)>(options.ExpectationTimeout);
        WakeOn(informers.StatefulSets);
        WakeOn(informers.ControllerRevisions);
        WakeOn(informers.Pods);
    }

    public override string Name => "statefulsets";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var pods = Informers.Pods.Cache.List();
        var revisions = Informers.ControllerRevisions.Cache.List();
        // A created pod is seen once it is in the cache; a deleted one once it is gone or terminating.
        var present = pods.Where(p => !PodState.IsTerminating(p)).Select(p => PodState.Key(p.Metadata)).ToHashSet();
        var seen = pods.Select(p => PodState.Key(p.Metadata)).ToHashSet();
        _expect.Prune((_, e) => e.Created.All(seen.Contains) && !e.Deleted.Any(present.Contains));
        var waitForAvailable = 0;
        foreach (var set in Informers.StatefulSets.Cache.List())
        {
            if (_expect.TryGet(PodState.Key(set.Metadata), out _))
            {
                continue;
            }
            var ns = set.Metadata.NamespaceProperty;
            var own = pods.Where(p => p.Metadata.NamespaceProperty == ns && Owners.IsControlledBy(p.Metadata, set.Metadata)).ToList();
            var revisionPlan = StatefulSetRevisions.Calc(set, revisions.Where(r => r.Metadata.NamespaceProperty == ns), own);
            await ApplyAsync(set, revisionPlan, cancellationToken).ConfigureAwait(false);
            var plan = StatefulSetCalc.Calc(set, own, revisionPlan, DateTime.UtcNow);
            await ApplyAsync(set, plan, cancellationToken).ConfigureAwait(false);
            if (set.Spec.MinReadySeconds is > 0 and var minReady && plan.Status.ReadyReplicas > (plan.Status.AvailableReplicas ?? 0))
            {
                waitForAvailable = waitForAvailable == 0 ? minReady : Math.Min(waitForAvailable, minReady);
            }
        }
        if (_expect.Count > 0)
        {
            WakeAfter(Options.ExpectationTimeout, cancellationToken);
        }
        if (waitForAvailable > 0)
        {
            // Ready pods become available only after minReadySeconds: look again then.
            WakeAfter(TimeSpan.FromSeconds(waitForAvailable), cancellationToken);
        }
    }

    private void WakeAfter(TimeSpan delay, CancellationToken cancellationToken) =>
        _ = Task.Delay(delay, cancellationToken).ContinueWith(_ => Wake(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    private async Task ApplyAsync(V1StatefulSet set, RevisionPlan plan, CancellationToken ct)
    {
        var ns = set.Metadata.NamespaceProperty;
        if (plan.Create is { } created)
        {
            await Writes.TolerateAsync(() => _client.AppsV1.CreateNamespacedControllerRevisionAsync(created, ns, cancellationToken: ct), HttpStatusCode.Conflict).ConfigureAwait(false);
        }
        if (plan.Renumber is var (name, revision))
        {
            var patch = new JsonObject { ["revision"] = revision };
            await _client.AppsV1.PatchNamespacedControllerRevisionAsync(Writes.Merge(patch), name, ns, cancellationToken: ct).ConfigureAwait(false);
        }
        foreach (var old in plan.Delete)
        {
            await Writes.TolerateAsync(() => _client.AppsV1.DeleteNamespacedControllerRevisionAsync(old, ns, cancellationToken: ct), HttpStatusCode.NotFound).ConfigureAwait(false);
        }
    }

    private async Task ApplyAsync(V1StatefulSet set, StatefulSetPlan plan, CancellationToken ct)
    {
        var ns = set.Metadata.NamespaceProperty;
        var expectation = (Created: new HashSet<string>(), Deleted: new HashSet<string>());
        try
        {
            foreach (var pod in plan.Create)
            {
                await Writes.TolerateAsync(() => _client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: ct), HttpStatusCode.Conflict).ConfigureAwait(false);
                expectation.Created.Add(PodState.Key(pod.Metadata));
            }
            foreach (var pod in plan.Delete)
            {
                await Writes.TolerateAsync(() => _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, ns, cancellationToken: ct), HttpStatusCode.NotFound).ConfigureAwait(false);
                expectation.Deleted.Add(PodState.Key(pod.Metadata));
            }
        }
        finally
        {
            // What was written is expected even when a later write failed.
            if (expectation.Created.Count + expectation.Deleted.Count > 0)
            {
                _expect.Set(PodState.Key(set.Metadata), expectation);
            }
        }
        if (StatefulSetCalc.StatusDiffers(set.Status, plan.Status))
        {
            var patch = new JsonObject { ["status"] = JsonNode.Parse(KubernetesJson.Serialize(plan.Status)) };
            await _client.AppsV1.PatchNamespacedStatefulSetStatusAsync(Writes.Merge(patch), set.Metadata.Name, ns, cancellationToken: ct).ConfigureAwait(false);
        }
    }
}
