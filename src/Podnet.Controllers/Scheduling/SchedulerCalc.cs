using k8s.Models;
using Podnet.Controllers.Common;

namespace Podnet.Controllers.Scheduling;

/// <summary>A binding decision: a node, or why there is none (the FailedScheduling message).</summary>
public sealed record ScheduleResult(string PodNamespace, string PodName, string? NodeName, string? Reason);

/// <summary>
/// The scheduler's compute step: each pending pod goes to a feasible node with the fewest pods
/// (ties broken by name, so the result is deterministic).
/// </summary>
/// <remarks>
/// Feasible means: nodeSelector and required node affinity match the node's labels, and every
/// NoSchedule or NoExecute taint is tolerated. As upstream (taint nodes by condition), a node
/// that is not Ready carries node.kubernetes.io/not-ready:NoSchedule and an unschedulable node
/// node.kubernetes.io/unschedulable:NoSchedule, so tolerations decide for those too. Pods that
/// already have spec.nodeName, are terminating, or name another scheduler are not touched.
/// </remarks>
public static class SchedulerCalc
{
    public const string DefaultSchedulerName = "default-scheduler";
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";
    public const string UnschedulableTaint = "node.kubernetes.io/unschedulable";

    public static bool NeedsScheduling(V1Pod pod) =>
        string.IsNullOrEmpty(pod.Spec?.NodeName)
        && !PodState.IsTerminating(pod)
        && !PodState.IsTerminal(pod)
        && (pod.Spec?.SchedulerName ?? DefaultSchedulerName) == DefaultSchedulerName;

    /// <summary>Schedules every pending pod in order, counting earlier decisions toward later ones.</summary>
    public static IReadOnlyList<ScheduleResult> ScheduleAll(IEnumerable<V1Pod> pods, IEnumerable<V1Node> nodes)
    {
        var podList = pods.ToList();
        var nodeList = nodes.OrderBy(n => n.Metadata.Name, StringComparer.Ordinal).ToList();
        var counts = nodeList.ToDictionary(n => n.Metadata.Name, _ => 0);
        foreach (var pod in podList.Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName) && !PodState.IsTerminal(p)))
        {
            if (counts.ContainsKey(pod.Spec.NodeName))
            {
                counts[pod.Spec.NodeName]++;
            }
        }
        var results = new List<ScheduleResult>();
        // As upstream's scheduling queue: higher spec.priority first, then older first.
        var pending = podList.Where(NeedsScheduling)
            .OrderByDescending(p => p.Spec?.Priority ?? 0)
            .ThenBy(p => p.Metadata.CreationTimestamp ?? DateTime.MinValue)
            .ThenBy(p => PodState.Key(p.Metadata), StringComparer.Ordinal);
        foreach (var pod in pending)
        {
            var result = Schedule(pod, nodeList, counts);
            if (result.NodeName is not null)
            {
                counts[result.NodeName]++;
            }
            results.Add(result);
        }
        return results;
    }

    public static ScheduleResult Schedule(V1Pod pod, IReadOnlyList<V1Node> nodes, IReadOnlyDictionary<string, int> podCounts)
    {
        var reasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
        V1Node? best = null;
        foreach (var node in nodes)
        {
            var reason = Unfit(pod, node);
            if (reason is not null)
            {
                reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                continue;
            }
            if (best is null || podCounts.GetValueOrDefault(node.Metadata.Name) < podCounts.GetValueOrDefault(best.Metadata.Name))
            {
                best = node;
            }
        }
        if (best is not null)
        {
            return new ScheduleResult(pod.Metadata.NamespaceProperty, pod.Metadata.Name, best.Metadata.Name, null);
        }
        var detail = string.Join(", ", reasons.Select(r => $"{r.Value} {r.Key}"));
        var message = $"0/{nodes.Count} nodes are available" + (detail.Length > 0 ? $": {detail}." : ".");
        return new ScheduleResult(pod.Metadata.NamespaceProperty, pod.Metadata.Name, null, message);
    }

    /// <summary>Why the pod cannot go to the node, in upstream's words, or null when it can.</summary>
    public static string? Unfit(V1Pod pod, V1Node node)
    {
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        if (pod.Spec?.NodeSelector is { Count: > 0 } selector && selector.Any(p => !labels.TryGetValue(p.Key, out var v) || v != p.Value))
        {
            return "node(s) didn't match Pod's node affinity/selector";
        }
        if (!NodeAffinity.Matches(pod.Spec?.Affinity?.NodeAffinity, node))
        {
            return "node(s) didn't match Pod's node affinity/selector";
        }
        foreach (var taint in EffectiveTaints(node))
        {
            if (taint.Effect is "NoSchedule" or "NoExecute" && !Tolerations.ToleratesTaint(pod.Spec?.Tolerations, taint))
            {
                return taint.Key switch
                {
                    NotReadyTaint => "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
                    UnschedulableTaint => "node(s) were unschedulable",
                    _ => $"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}",
                };
            }
        }
        return null;
    }

    public static IEnumerable<V1Taint> EffectiveTaints(V1Node node)
    {
        var taints = node.Spec?.Taints ?? [];
        var ready = node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        if (!ready && taints.All(t => t.Key != NotReadyTaint))
        {
            yield return new V1Taint { Key = NotReadyTaint, Effect = "NoSchedule" };
        }
        if (node.Spec?.Unschedulable == true && taints.All(t => t.Key != UnschedulableTaint))
        {
            yield return new V1Taint { Key = UnschedulableTaint, Effect = "NoSchedule" };
        }
        foreach (var taint in taints)
        {
            yield return taint;
        }
    }
}
