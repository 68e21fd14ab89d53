using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.DaemonSets;

/// <summary>daemonsets: one pod of each DaemonSet on every node it belongs on, rolling updates, and the status `kubectl rollout status` reads.</summary>
/// <remarks>
/// As the ReplicaSet controller: pods a DaemonSet created or deleted are expected until the
/// cache shows them (or the expectation times out), and that DaemonSet is not synced meanwhile,
/// so a stale cache never makes it create a second pod on a node.
/// </remarks>
internal sealed class DaemonSetController : QueueController
{
    private readonly IKubernetes _client;
    private readonly Expectations<(HashSet<string> Created, HashSet<string> Deleted)> _expect;
    private ITimer? _timer;

    public DaemonSetController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _expect = new Expectations<(HashSet<string>, HashSet<string>)>(options.ExpectationTimeout);
        WakeOn(informers.DaemonSets);
        WakeOn(informers.Nodes);
        WakeOn(informers.Pods);
    }

    public override string Name => "daemonsets";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var now = Options.Time.GetUtcNow().UtcDateTime;
        var pods = Informers.Pods.Cache.List();
        var nodes = Informers.Nodes.Cache.List();
        var live = pods.Where(p => !PodState.IsTerminating(p)).Select(p => PodState.Key(p.Metadata)).ToHashSet();
        _expect.Prune((_, e) => e.Created.All(live.Contains) && !e.Deleted.Any(live.Contains));
        DateTime? next = null;
        foreach (var ds in Informers.DaemonSets.Cache.List())
        {
            if (ds.Metadata.DeletionTimestamp is not null || _expect.TryGet(PodState.Key(ds.Metadata), out _))
            {
                continue;
            }
            var ns = ds.Metadata.NamespaceProperty;
            var plan = DaemonSetCalc.Calc(ds, nodes, pods.Where(p => p.Metadata.NamespaceProperty == ns), now);
            await ApplyAsync(ds, plan, cancellationToken).ConfigureAwait(false);
            next = plan.NextCheck is { } at && (next is null || at < next) ? at : next;
        }
        _timer?.Dispose();
        _timer = null;
        if (_expect.Count > 0)
        {
            next = now + Options.ExpectationTimeout;
        }
        if (next is { } when)
        {
            _timer = Options.Time.CreateTimer(_ => Wake(), null, when > now ? when - now : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task ApplyAsync(V1DaemonSet ds, DaemonSetPlan plan, CancellationToken ct)
    {
        var ns = ds.Metadata.NamespaceProperty;
        var expectation = (Created: new HashSet<string>(), Deleted: new HashSet<string>());
        try
        {
            await Writes.SlowStartAsync(plan.Create, async pod =>
            {
                var made = await _client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: ct).ConfigureAwait(false);
                lock (expectation.Created)
                {
                    expectation.Created.Add(PodState.Key(made.Metadata));
                }
            }).ConfigureAwait(false);
            await Writes.SlowStartAsync(plan.Delete, async pod =>
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
            if (expectation.Created.Count + expectation.Deleted.Count > 0)
            {
                _expect.Set(PodState.Key(ds.Metadata), expectation);
            }
        }
        if (StatusDiffers(ds.Status, plan.Status))
        {
            var status = JsonNode.Parse(KubernetesJson.Serialize(plan.Status))!.AsObject();
            // Merge patch: a count that fell to zero must be written as zero, not left out.
            foreach (var field in new[] { "numberAvailable", "numberUnavailable", "updatedNumberScheduled" })
            {
                status[field] ??= 0;
            }
            var patch = new JsonObject { ["status"] = status };
            await Writes.TolerateAsync(() => _client.AppsV1.PatchNamespacedDaemonSetStatusAsync(Writes.Merge(patch), ds.Metadata.Name, ns, cancellationToken: ct), HttpStatusCode.NotFound).ConfigureAwait(false);
        }
    }

    public static bool StatusDiffers(V1DaemonSetStatus? current, V1DaemonSetStatus wanted) =>
        current is null
        || current.ObservedGeneration != wanted.ObservedGeneration
        || current.DesiredNumberScheduled != wanted.DesiredNumberScheduled
        || current.CurrentNumberScheduled != wanted.CurrentNumberScheduled
        || current.NumberMisscheduled != wanted.NumberMisscheduled
        || current.NumberReady != wanted.NumberReady
        || (current.NumberAvailable ?? 0) != (wanted.NumberAvailable ?? 0)
        || (current.NumberUnavailable ?? 0) != (wanted.NumberUnavailable ?? 0)
        || (current.UpdatedNumberScheduled ?? 0) != (wanted.UpdatedNumberScheduled ?? 0);
}
