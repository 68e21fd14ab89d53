using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Scheduling;

namespace Podnet.Controllers.NodeLifecycle;

/// <summary>A pod the NoExecute taints of its node evict, and the taint that does.</summary>
public sealed record PodEviction(string Namespace, string Name, string? Uid, string Taint);

/// <summary>The evictions due on one node now, and when the next one falls due.</summary>
public sealed record EvictionPlan(IReadOnlyList<PodEviction> Evict, DateTime? NextCheck);

/// <summary>
/// Taint-based eviction (upstream's taint eviction controller): a pod on a node with a NoExecute
/// taint it does not tolerate is deleted at once; one that tolerates every such taint stays for
/// the least tolerationSeconds of the tolerations used, counted from the taint's timeAdded (or
/// from when the controller first saw a taint without one), and for ever when none of those
/// tolerations has tolerationSeconds. Pods already terminating are left alone.
/// </summary>
public static class TaintEvictionCalc
{
    public static EvictionPlan Calc(string node, IEnumerable<V1Taint> taints, IEnumerable<V1Pod> pods, DateTime now, Func<string, V1Taint, DateTime> taintSince)
    {
        var noExecute = taints.Where(t => t.Effect == "NoExecute").ToList();
        if (noExecute.Count == 0)
        {
            return new EvictionPlan([], null);
        }
        var evict = new List<PodEviction>();
        DateTime? next = null;
        foreach (var pod in pods.Where(p => !PodState.IsTerminating(p)))
        {
            var tolerations = pod.Spec?.Tolerations ?? [];
            DateTime? deadline = null;
            string? by = null;
            foreach (var taint in noExecute)
            {
                var used = tolerations.Where(t => Tolerations.Tolerates(t, taint)).ToList();
                if (used.Count == 0)
                {
                    deadline = now;
                    by = taint.Key;
                    break;
                }
                var seconds = used.Where(t => t.TolerationSeconds is not null).Select(t => Math.Max(0, t.TolerationSeconds!.Value)).DefaultIfEmpty(-1).Min();
                if (seconds < 0)
                {
                    continue;
                }
                var due = (taint.TimeAdded ?? taintSince(node, taint)).AddSeconds(seconds);
                if (deadline is null || due < deadline)
                {
                    deadline = due;
                    by = taint.Key;
                }
            }
            if (deadline is null)
            {
                continue;
            }
            if (deadline <= now)
            {
                evict.Add(new PodEviction(pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.Uid, by!));
            }
            else if (next is null || deadline < next)
            {
                next = deadline;
            }
        }
        return new EvictionPlan(evict, next);
    }
}
