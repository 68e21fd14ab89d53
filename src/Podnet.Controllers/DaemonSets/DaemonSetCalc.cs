using System.Globalization;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.DaemonSets;

/// <summary>One sync of a DaemonSet: pods to create (one per node name), pods to delete, the status, and when time alone changes it.</summary>
public sealed record DaemonSetPlan(IReadOnlyList<V1Pod> Create, IReadOnlyList<V1Pod> Delete, V1DaemonSetStatus Status, DateTime? NextCheck);

/// <summary>
/// The DaemonSet controller's rules as a pure function of the DaemonSet, the nodes and its
/// namespace's pods: one pod on every node it should run on (<see cref="DaemonSetNodes.Fits"/>),
/// none where it may not stay, failed pods replaced, extra pods removed; then one step of the
/// RollingUpdate (maxUnavailable, or maxSurge) over pods whose controller-revision-hash is
/// not the template's; OnDelete replaces only pods deleted by someone else.
/// </summary>
/// <remarks>
/// The template's revision is <see cref="PodTemplateHash"/> of the template, carried by the pods
/// in the controller-revision-hash label (upstream hashes a ControllerRevision, which this lab
/// does not serve, so the values differ from kube-controller-manager's). Pods are pinned to
/// their node by required node affinity on metadata.name and bound by the scheduler, as upstream.
/// </remarks>
public static class DaemonSetCalc
{
    public const string RevisionHashLabel = "controller-revision-hash";
    public const string TemplateGenerationLabel = "pod-template-generation";

    public static DaemonSetPlan Calc(V1DaemonSet ds, IEnumerable<V1Node> nodes, IEnumerable<V1Pod> pods, DateTime now)
    {
        var hash = PodTemplateHash.Compute(ds.Spec.Template);
        var minReady = ds.Spec.MinReadySeconds ?? 0;
        var owned = pods.Where(p => Owners.IsControlledBy(p.Metadata, ds.Metadata)).ToList();
        var byNode = owned.ToLookup(p => DaemonSetNodes.TargetNode(p) ?? "");
        var create = new List<string>();
        var delete = new List<V1Pod>();
        var rolling = new List<NodePods>();
        var status = new V1DaemonSetStatus { ObservedGeneration = ds.Metadata.Generation };
        DateTime? next = null;
        var surge = IsRolling(ds) ? Scaled(ds.Spec.UpdateStrategy.RollingUpdate?.MaxSurge, 100, 0) : 0;
        foreach (var node in nodes.OrderBy(n => n.Metadata.Name, StringComparer.Ordinal))
        {
            var name = node.Metadata.Name;
            var (run, stay) = DaemonSetNodes.Fits(ds.Spec.Template.Spec, node);
            var all = byNode[name].ToList();
            var live = all.Where(p => !PodState.IsTerminating(p)).ToList();
            var running = live.Where(p => p.Status?.Phase != "Failed").OrderBy(p => p.Metadata.CreationTimestamp).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
            Count(status, run, running, hash, minReady, now, ref next);
            if (!stay)
            {
                delete.AddRange(live);
                continue;
            }
            delete.AddRange(live.Where(p => p.Status?.Phase == "Failed"));
            if (running.Count == 0)
            {
                // A pod still terminating holds the node until it is gone, as upstream.
                if (run && all.All(p => p.Status?.Phase == "Failed" || !PodState.IsTerminating(p)))
                {
                    create.Add(name);
                }
                continue;
            }
            var updated = running.Where(p => IsUpdated(p, hash)).ToList();
            var old = running.Where(p => !IsUpdated(p, hash)).ToList();
            // More than one pod: keep the oldest (of each revision while a surge replaces one).
            if (surge == 0 || updated.Count > 1 || old.Count > 1)
            {
                var keep = surge > 0 ? new[] { updated.FirstOrDefault(), old.FirstOrDefault() } : [running[0]];
                delete.AddRange(running.Where(p => !keep.Contains(p)));
                updated = updated.Where(keep.Contains).ToList();
                old = old.Where(keep.Contains).ToList();
            }
            rolling.Add(new NodePods(name, run, updated.FirstOrDefault(), old.FirstOrDefault()));
        }
        if (IsRolling(ds))
        {
            var desired = (int)status.DesiredNumberScheduled;
            var maxUnavailable = Scaled(ds.Spec.UpdateStrategy.RollingUpdate?.MaxUnavailable, desired, 1);
            var maxSurge = Scaled(ds.Spec.UpdateStrategy.RollingUpdate?.MaxSurge, desired, 0);
            var step = maxSurge > 0 ? Surge(rolling, maxSurge, minReady, now) : Unavailable(rolling, create.Count, maxUnavailable, minReady, now);
            create.AddRange(step.Create);
            delete.AddRange(step.Delete);
        }
        status.NumberUnavailable = status.DesiredNumberScheduled - (status.NumberAvailable ?? 0) is var unavailable and > 0 ? unavailable : null;
        return new DaemonSetPlan(create.Select(n => NewPod(ds, n, hash)).ToList(), delete.DistinctBy(p => p.Metadata.Name).ToList(), status, next);
    }

    /// <summary>What the rolling update sees of a node: whether a new pod belongs there, its updated pod and its old pod.</summary>
    private sealed record NodePods(string Node, bool ShouldRun, V1Pod? Updated, V1Pod? Old);

    /// <summary>
    /// maxSurge 0: old pods that are not available go at once; available ones go while fewer
    /// than maxUnavailable nodes are without an available pod (the manage step replaces them).
    /// An old pod on a node where no new pod may start (a tainted, unreachable node) stays.
    /// </summary>
    private static (List<string> Create, List<V1Pod> Delete) Unavailable(List<NodePods> nodes, int missing, int maxUnavailable, int minReady, DateTime now)
    {
        var unavailable = missing + nodes.Count(n => n.ShouldRun && !Available(n.Updated ?? n.Old, minReady, now));
        var delete = new List<V1Pod>();
        foreach (var node in nodes.Where(n => n.ShouldRun && n.Old is not null && n.Updated is null))
        {
            if (!Available(node.Old, minReady, now))
            {
                delete.Add(node.Old!);
            }
            else if (unavailable < maxUnavailable)
            {
                delete.Add(node.Old!);
                unavailable++;
            }
        }
        return ([], delete);
    }

    /// <summary>
    /// maxSurge above 0: a new pod starts beside an old one on up to maxSurge nodes at a time (at
    /// once where the old one is not available); the old one goes when the new one is available.
    /// </summary>
    private static (List<string> Create, List<V1Pod> Delete) Surge(List<NodePods> nodes, int maxSurge, int minReady, DateTime now)
    {
        var create = new List<string>();
        var delete = new List<V1Pod>();
        var surging = nodes.Count(n => n.Old is not null && n.Updated is not null && !Available(n.Updated, minReady, now));
        foreach (var node in nodes.Where(n => n.Old is not null))
        {
            if (node.Updated is not null)
            {
                if (Available(node.Updated, minReady, now))
                {
                    delete.Add(node.Old!);
                }
                continue;
            }
            if (!node.ShouldRun)
            {
                continue;
            }
            if (!Available(node.Old, minReady, now))
            {
                create.Add(node.Node);
            }
            else if (surging < maxSurge)
            {
                create.Add(node.Node);
                surging++;
            }
        }
        return (create, delete);
    }

    /// <summary>Upstream's status counts: of nodes it should run on, those with a pod, and of their oldest pods the ready, available and updated ones; pods elsewhere are misscheduled.</summary>
    private static void Count(V1DaemonSetStatus status, bool run, List<V1Pod> running, string hash, int minReady, DateTime now, ref DateTime? next)
    {
        if (!run)
        {
            status.NumberMisscheduled += running.Count > 0 ? 1 : 0;
            return;
        }
        status.DesiredNumberScheduled++;
        if (running.Count == 0)
        {
            return;
        }
        status.CurrentNumberScheduled++;
        var pod = running[0];
        if (PodState.IsReady(pod))
        {
            status.NumberReady++;
            if (PodState.IsAvailable(pod, minReady, now))
            {
                status.NumberAvailable = (status.NumberAvailable ?? 0) + 1;
            }
            else if (pod.Status.Conditions.First(c => c.Type == "Ready").LastTransitionTime is { } since)
            {
                var at = since.AddSeconds(minReady);
                next = next is null || at < next ? at : next;
            }
        }
        if (IsUpdated(pod, hash))
        {
            status.UpdatedNumberScheduled = (status.UpdatedNumberScheduled ?? 0) + 1;
        }
    }

    private static bool Available(V1Pod? pod, int minReady, DateTime now) => pod is not null && PodState.IsAvailable(pod, minReady, now);

    public static bool IsUpdated(V1Pod pod, string hash) => pod.Metadata.Labels?.TryGetValue(RevisionHashLabel, out var h) == true && h == hash;

    private static bool IsRolling(V1DaemonSet ds) => (ds.Spec.UpdateStrategy?.Type ?? "RollingUpdate") == "RollingUpdate";

    /// <summary>An int, or a percentage of <paramref name="total"/> rounded up (as upstream's DaemonSet rounds both).</summary>
    private static int Scaled(IntOrString? value, int total, int fallback)
    {
        if (string.IsNullOrEmpty(value?.Value))
        {
            return fallback;
        }
        var text = value.Value;
        return text.EndsWith('%')
            ? (int)(((long)int.Parse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture) * total + 99) / 100)
            : int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
    }

    /// <summary>A pod of the current template for <paramref name="node"/>: the DaemonSet's tolerations added, pinned by node affinity.</summary>
    public static V1Pod NewPod(V1DaemonSet ds, string node, string hash)
    {
        var template = PodTemplateHash.Clone(ds.Spec.Template);
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>())
        {
            [RevisionHashLabel] = hash,
            [TemplateGenerationLabel] = (ds.Metadata.Generation ?? 1).ToString(CultureInfo.InvariantCulture),
        };
        var spec = template.Spec;
        spec.Tolerations = DaemonSetNodes.WithDefaults(spec.Tolerations, spec.HostNetwork == true);
        spec.Affinity = DaemonSetNodes.PinTo(spec.Affinity, node);
        return new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = ds.Metadata.Name + "-",
                NamespaceProperty = ds.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = template.Metadata?.Annotations,
                OwnerReferences = [Owners.ControllerRef("apps/v1", "DaemonSet", ds.Metadata)],
            },
            Spec = spec,
        };
    }
}
