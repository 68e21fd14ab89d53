using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.NodeLifecycle;

/// <summary>
/// nodelifecycle: watches nodes, their Leases in kube-node-lease and pods; marks nodes whose
/// heartbeat stopped Unknown, keeps the condition taints, marks the pods of nodes that are not
/// Ready not ready, and evicts pods by NoExecute taints (<see cref="NodeLifecycleCalc"/>).
/// </summary>
/// <remarks>
/// Time passing is an event no informer reports: each sync arms one timer for the moment the
/// next node can go stale or the next eviction falls due. The heartbeats observed (and when) and
/// the first sight of NoExecute taints without timeAdded live in this process only, as upstream:
/// a restarted controller gives every node a whole grace period again. Writes carry the
/// resourceVersion they were computed from; a 409 (the agent wrote meanwhile) just waits for
/// the next sync.
/// </remarks>
internal sealed class NodeLifecycleController : QueueController
{
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Dictionary<string, NodeHealth> _health = [];
    private readonly Dictionary<string, DateTime> _taintSeen = [];
    private ITimer? _timer;

    public NodeLifecycleController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _events = new EventRecorder(client, "node-controller");
        WakeOn(informers.Nodes);
        WakeOn(informers.NodeLeases);
        WakeOn(informers.Pods);
    }

    public override string Name => "nodelifecycle";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var now = Options.Time.GetUtcNow().UtcDateTime;
        var nodes = Informers.Nodes.Cache.List();
        var leases = Informers.NodeLeases.Cache.List().ToDictionary(l => l.Metadata.Name, l => l.Spec?.RenewTime);
        foreach (var gone in _health.Keys.Except(nodes.Select(n => n.Metadata.Name)).ToList())
        {
            _health.Remove(gone);
        }
        foreach (var node in nodes)
        {
            // Either heartbeat counts, as upstream: a kubelet that posts Ready before it renews
            // its Lease (as one coming back does) is not marked Unknown again meanwhile.
            var lease = leases.TryGetValue(node.Metadata.Name, out var renew) ? renew : null;
            var posted = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastHeartbeatTime;
            var heartbeat = lease is null ? posted : posted is null || lease > posted ? lease : posted;
            _health[node.Metadata.Name] = NodeHealth.Observe(_health.GetValueOrDefault(node.Metadata.Name), heartbeat, now);
        }
        var plan = NodeLifecycleCalc.Calc(nodes, _health, Informers.Pods.Cache.List(), now, Options.NodeMonitorGracePeriod, TaintSince(now));
        foreach (var update in plan.Nodes)
        {
            await UpdateNodeAsync(update, cancellationToken).ConfigureAwait(false);
        }
        await Writes.SlowStartAsync(plan.PodsNotReady, pod => Writes.TolerateAsync(() => _client.CoreV1.PatchNamespacedPodStatusAsync(
            Writes.Merge(new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = pod.ResourceVersion },
                ["status"] = new JsonObject { ["conditions"] = JsonNode.Parse(KubernetesJson.Serialize(pod.Conditions)) },
            }), pod.Name, pod.Namespace, cancellationToken: cancellationToken), HttpStatusCode.NotFound, HttpStatusCode.Conflict)).ConfigureAwait(false);
        foreach (var eviction in plan.Evictions)
        {
            await EvictAsync(eviction, cancellationToken).ConfigureAwait(false);
        }
        Arm(plan.NextCheck, now);
    }

    /// <summary>First sight of a NoExecute taint that has no timeAdded, per node.</summary>
    private Func<string, V1Taint, DateTime> TaintSince(DateTime now) => (node, taint) =>
    {
        var key = $"{node}|{taint.Key}|{taint.Value}";
        if (!_taintSeen.TryGetValue(key, out var since))
        {
            _taintSeen[key] = since = now;
        }
        return since;
    };

    private async Task UpdateNodeAsync(NodeUpdate update, CancellationToken ct)
    {
        var meta = new JsonObject { ["resourceVersion"] = update.ResourceVersion };
        if (update.Taints is not null)
        {
            var patch = new JsonObject { ["metadata"] = meta, ["spec"] = new JsonObject { ["taints"] = JsonNode.Parse(KubernetesJson.Serialize(update.Taints)) } };
            if (!await Writes.TolerateAsync(() => _client.CoreV1.PatchNodeAsync(Writes.Merge(patch), update.Name, cancellationToken: ct), HttpStatusCode.Conflict, HttpStatusCode.NotFound).ConfigureAwait(false))
            {
                return;
            }
            meta = new JsonObject();
        }
        if (update.Conditions is not null)
        {
            var patch = new JsonObject { ["metadata"] = meta, ["status"] = new JsonObject { ["conditions"] = JsonNode.Parse(KubernetesJson.Serialize(update.Conditions)) } };
            await Writes.TolerateAsync(() => _client.CoreV1.PatchNodeStatusAsync(Writes.Merge(patch), update.Name, cancellationToken: ct), HttpStatusCode.Conflict, HttpStatusCode.NotFound).ConfigureAwait(false);
        }
    }

    private async Task EvictAsync(PodEviction eviction, CancellationToken ct)
    {
        Options.Log?.Invoke($"{Name}: deleting pod {eviction.Namespace}/{eviction.Name} (taint {eviction.Taint})");
        var options = new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = eviction.Uid } };
        await Writes.TolerateAsync(() => _client.CoreV1.DeleteNamespacedPodAsync(eviction.Name, eviction.Namespace, options, cancellationToken: ct), HttpStatusCode.NotFound, HttpStatusCode.Conflict).ConfigureAwait(false);
        var about = new V1ObjectReference { Kind = "Pod", ApiVersion = "v1", NamespaceProperty = eviction.Namespace, Name = eviction.Name, Uid = eviction.Uid };
        await _events.RecordAsync(about, "Normal", "TaintManagerEviction", $"Marking for deletion Pod {eviction.Namespace}/{eviction.Name}", ct).ConfigureAwait(false);
    }

    /// <summary>One timer, re-armed every sync, for the next moment time alone changes the plan.</summary>
    private void Arm(DateTime? next, DateTime now)
    {
        _timer?.Dispose();
        _timer = next is { } at ? Options.Time.CreateTimer(_ => Wake(), null, at > now ? at - now : TimeSpan.Zero, Timeout.InfiniteTimeSpan) : null;
    }
}
