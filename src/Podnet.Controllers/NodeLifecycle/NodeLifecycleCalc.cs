using k8s.Models;
using Podnet.Controllers.Common;

namespace Podnet.Controllers.NodeLifecycle;

/// <summary>A node's new conditions and/or taints (null: unchanged), written with its resourceVersion.</summary>
public sealed record NodeUpdate(string Name, string? ResourceVersion, IList<V1NodeCondition>? Conditions, IList<V1Taint>? Taints);

/// <summary>A pod's conditions with Ready set False, written with its resourceVersion.</summary>
public sealed record PodNotReady(string Namespace, string Name, string? ResourceVersion, IList<V1PodCondition> Conditions);

/// <summary>What one pass of the node lifecycle controller writes, and when it must look again.</summary>
public sealed record NodeLifecyclePlan(IReadOnlyList<NodeUpdate> Nodes, IReadOnlyList<PodNotReady> PodsNotReady, IReadOnlyList<PodEviction> Evictions, DateTime? NextCheck);

/// <summary>
/// kube-controller-manager's node lifecycle rules, as a pure function of nodes, their observed
/// heartbeats, pods and the time: a node with no new heartbeat for the grace period gets its
/// conditions Unknown (Ready: NodeStatusUnknown, "Kubelet stopped posting node status."); a
/// node's Ready condition decides its node.kubernetes.io/unreachable or not-ready taints
/// (NoSchedule and NoExecute, with timeAdded) and spec.unschedulable its unschedulable taint;
/// the pods of a node that is not Ready get Ready=False; NoExecute taints evict pods
/// (<see cref="TaintEvictionCalc"/>).
/// </summary>
public static class NodeLifecycleCalc
{
    public const string UnreachableTaint = "node.kubernetes.io/unreachable";
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";
    public const string UnschedulableTaint = "node.kubernetes.io/unschedulable";

    public const string UnknownReason = "NodeStatusUnknown";
    public const string UnknownMessage = "Kubelet stopped posting node status.";
    public const string NeverUpdatedReason = "NodeStatusNeverUpdated";
    public const string NeverUpdatedMessage = "Kubelet never posted node status.";

    /// <summary>The conditions a kubelet posts, all of which turn Unknown when it stops.</summary>
    private static readonly string[] KubeletConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

    private static readonly HashSet<string> ManagedTaints = [UnreachableTaint, NotReadyTaint, UnschedulableTaint];

    /// <param name="health">The observed heartbeat of every node in <paramref name="nodes"/> (<see cref="NodeHealth.Observe"/>).</param>
    /// <param name="taintSince">When a NoExecute taint without timeAdded was first seen on the named node.</param>
    public static NodeLifecyclePlan Calc(IEnumerable<V1Node> nodes, IReadOnlyDictionary<string, NodeHealth> health, IEnumerable<V1Pod> pods,
        DateTime now, TimeSpan grace, Func<string, V1Taint, DateTime> taintSince)
    {
        var byNode = pods.Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName)).ToLookup(p => p.Spec.NodeName);
        var updates = new List<NodeUpdate>();
        var notReady = new List<PodNotReady>();
        var evictions = new List<PodEviction>();
        DateTime? next = null;
        foreach (var node in nodes)
        {
            var name = node.Metadata.Name;
            var nodeHealth = health[name];
            var conditions = Conditions(node, nodeHealth.Stale(now, grace), now);
            if (!nodeHealth.Stale(now, grace))
            {
                next = Earliest(next, nodeHealth.ProbedAt + grace + TimeSpan.FromMilliseconds(1));
            }
            var ready = (conditions ?? node.Status?.Conditions)?.FirstOrDefault(c => c.Type == "Ready")?.Status;
            var taints = Taints(node, ready, now);
            if (conditions is not null || taints is not null)
            {
                updates.Add(new NodeUpdate(name, node.Metadata.ResourceVersion, conditions, taints));
            }
            var onNode = byNode[name].ToList();
            if (ready is not null && ready != "True")
            {
                notReady.AddRange(onNode.Where(p => !PodState.IsTerminal(p) && PodState.IsReady(p)).Select(p => MarkNotReady(p, now)));
            }
            var eviction = TaintEvictionCalc.Calc(name, taints ?? node.Spec?.Taints ?? [], onNode, now, taintSince);
            evictions.AddRange(eviction.Evict);
            next = Earliest(next, eviction.NextCheck);
        }
        return new NodeLifecyclePlan(updates, notReady, evictions, next);
    }

    /// <summary>The node's conditions with the kubelet's turned Unknown when stale (null: no change).</summary>
    public static IList<V1NodeCondition>? Conditions(V1Node node, bool stale, DateTime now)
    {
        if (!stale)
        {
            return null;
        }
        var current = node.Status?.Conditions ?? [];
        if (current.All(c => c.Type != "Ready"))
        {
            return current.Append(new V1NodeCondition
            {
                Type = "Ready",
                Status = "Unknown",
                Reason = NeverUpdatedReason,
                Message = NeverUpdatedMessage,
                LastHeartbeatTime = node.Metadata.CreationTimestamp,
                LastTransitionTime = now,
            }).ToList();
        }
        if (current.All(c => !KubeletConditions.Contains(c.Type) || c.Status == "Unknown"))
        {
            return null;
        }
        return current.Select(c => !KubeletConditions.Contains(c.Type) || c.Status == "Unknown" ? c : new V1NodeCondition
        {
            Type = c.Type,
            Status = "Unknown",
            Reason = UnknownReason,
            Message = UnknownMessage,
            LastHeartbeatTime = c.LastHeartbeatTime,
            LastTransitionTime = now,
        }).ToList();
    }

    /// <summary>
    /// The node's taints with the managed ones as its Ready status and spec.unschedulable ask
    /// (null: no change). A managed taint that stays keeps its timeAdded.
    /// </summary>
    public static IList<V1Taint>? Taints(V1Node node, string? ready, DateTime now)
    {
        var current = node.Spec?.Taints ?? [];
        var wanted = new List<(string Key, string Effect)>();
        var condition = ready switch
        {
            "Unknown" => UnreachableTaint,
            "False" => NotReadyTaint,
            _ => null,
        };
        if (condition is not null)
        {
            wanted.Add((condition, "NoSchedule"));
            wanted.Add((condition, "NoExecute"));
        }
        if (node.Spec?.Unschedulable == true)
        {
            wanted.Add((UnschedulableTaint, "NoSchedule"));
        }
        var result = current.Where(t => !ManagedTaints.Contains(t.Key) || wanted.Contains((t.Key, t.Effect))).ToList();
        foreach (var (key, effect) in wanted)
        {
            if (!result.Any(t => t.Key == key && t.Effect == effect))
            {
                result.Add(new V1Taint { Key = key, Effect = effect, TimeAdded = now });
            }
        }
        return result.Count == current.Count && result.All(current.Contains) ? null : result;
    }

    private static PodNotReady MarkNotReady(V1Pod pod, DateTime now) => new(
        pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.ResourceVersion,
        pod.Status.Conditions.Select(c => c.Type != "Ready" ? c : new V1PodCondition
        {
            Type = c.Type,
            Status = "False",
            Reason = c.Reason,
            Message = c.Message,
            LastProbeTime = c.LastProbeTime,
            LastTransitionTime = now,
        }).ToList());

    private static DateTime? Earliest(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a < b ? a : b;
}
