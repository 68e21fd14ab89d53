using k8s.Models;
using Podnet.Controllers.Scheduling;

namespace Podnet.Controllers.DaemonSets;

/// <summary>Which nodes a DaemonSet's pods belong on, with upstream's rules.</summary>
public static class DaemonSetNodes
{
    /// <summary>
    /// The tolerations every DaemonSet pod gets, as upstream adds them: it stays on nodes that
    /// are not ready or unreachable, and goes to nodes under resource pressure and to cordoned
    /// ones (network-unavailable too for host-network pods).
    /// </summary>
    public static IReadOnlyList<V1Toleration> DefaultTolerations(bool hostNetwork)
    {
        var list = new List<V1Toleration>
        {
            Exists("node.kubernetes.io/not-ready", "NoExecute"),
            Exists("node.kubernetes.io/unreachable", "NoExecute"),
            Exists("node.kubernetes.io/disk-pressure", "NoSchedule"),
            Exists("node.kubernetes.io/memory-pressure", "NoSchedule"),
            Exists("node.kubernetes.io/pid-pressure", "NoSchedule"),
            Exists("node.kubernetes.io/unschedulable", "NoSchedule"),
        };
        if (hostNetwork)
        {
            list.Add(Exists("node.kubernetes.io/network-unavailable", "NoSchedule"));
        }
        return list;
    }

    /// <summary>The template's tolerations plus the defaults it lacks (same key, operator, value and effect counts as present).</summary>
    public static List<V1Toleration> WithDefaults(IEnumerable<V1Toleration>? tolerations, bool hostNetwork)
    {
        var result = (tolerations ?? []).ToList();
        foreach (var t in DefaultTolerations(hostNetwork))
        {
            if (!result.Any(r => r.Key == t.Key && r.Effect == t.Effect && (r.OperatorProperty ?? "Equal") == t.OperatorProperty && (r.Value ?? "") == (t.Value ?? "")))
            {
                result.Add(t);
            }
        }
        return result;
    }

    /// <summary>
    /// ShouldRun: a new pod belongs on the node (nodeName, nodeSelector, required node affinity,
    /// and every NoSchedule and NoExecute taint tolerated). ShouldContinue: a pod there may
    /// stay (the same, but only NoExecute taints count).
    /// </summary>
    public static (bool ShouldRun, bool ShouldContinue) Fits(V1PodSpec template, V1Node node)
    {
        if (node.Metadata.DeletionTimestamp is not null)
        {
            return (false, false);
        }
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        var fits = (string.IsNullOrEmpty(template.NodeName) || template.NodeName == node.Metadata.Name)
            && (template.NodeSelector ?? new Dictionary<string, string>()).All(p => labels.TryGetValue(p.Key, out var v) && v == p.Value)
            && NodeAffinity.Matches(template.Affinity?.NodeAffinity, node);
        if (!fits)
        {
            return (false, false);
        }
        var tolerations = WithDefaults(template.Tolerations, template.HostNetwork == true);
        var taints = node.Spec?.Taints ?? [];
        var run = taints.Where(t => t.Effect is "NoSchedule" or "NoExecute").All(t => Tolerations.ToleratesTaint(tolerations, t));
        var stay = taints.Where(t => t.Effect == "NoExecute").All(t => Tolerations.ToleratesTaint(tolerations, t));
        return (run, stay);
    }

    /// <summary>The node a DaemonSet pod is for: its nodeName, else the node its required affinity names (before it is bound).</summary>
    public static string? TargetNode(V1Pod pod)
    {
        if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            return pod.Spec.NodeName;
        }
        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [];
        return terms.SelectMany(t => t.MatchFields ?? [])
            .FirstOrDefault(f => f.Key == "metadata.name" && f.OperatorProperty == "In" && f.Values?.Count == 1)?.Values[0];
    }

    /// <summary>Required node affinity for exactly <paramref name="node"/>, replacing the template's required terms, as upstream pins DaemonSet pods.</summary>
    public static V1Affinity PinTo(V1Affinity? affinity, string node)
    {
        affinity ??= new V1Affinity();
        affinity.NodeAffinity ??= new V1NodeAffinity();
        affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
        {
            NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [node] }] }],
        };
        return affinity;
    }

    private static V1Toleration Exists(string key, string effect) => new() { Key = key, OperatorProperty = "Exists", Effect = effect };
}
